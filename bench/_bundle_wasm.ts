/**
 * For one-file bundles (`deno bundle`) run where there is no node_modules: tfjs-backend-wasm cannot find its
 * .wasm files, so the bundling scripts copy them beside the bundle and this points tfjs there.
 * @module
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

/** Point tfjs-backend-wasm at the .wasm files beside the running bundle, if they are there (else a no-op). */
export async function useWasmFilesBesideBundle(): Promise<void> {
  const dir = dirname(fileURLToPath(import.meta.url));
  try {
    Deno.statSync(`${dir}/tfjs-backend-wasm-simd.wasm`);
  } catch {
    return; // the checkout: tfjs finds them in node_modules
  }
  // Emscripten's Node.js glue reads the CommonJS `__dirname`, which an ES bundle does not define.
  const g = globalThis as Record<string, unknown>;
  if (g.__dirname === undefined) g.__dirname = dir;
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  wasm.setWasmPaths(`${dir}/`);
}
