/**
 * The kernel pack's build (its command line, `deno task build:kernels`, is bench/build_kernels.ts): compiles
 * kernels/wasm/pack.as (AssemblyScript, WebAssembly SIMD) into
 * kernels/wasm/pack.wasm with the pinned compiler (npm assemblyscript 0.28.20). The source has the
 * `.as` extension so Deno's own check/lint/fmt leave it alone; asc needs `.ts`, so it is compiled from
 * a temporary copy. Two binaries: pack.wasm imports an ordinary memory, pack-shared.wasm a shared one
 * (the backend's memory when the pack runs threads, kernels/threads.ts); a module can only import the
 * kind of memory it declares.
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** asc flags: shared (imported) memory, no runtime, no bounds-check traps, SIMD, optimised. */
export const ASC_FLAGS = [
  "--importMemory",
  "--runtime",
  "stub",
  "--noAssert",
  "-O3",
  "--enable",
  "simd",
  "--enable",
  "relaxed-simd",
  "--noExportMemory",
];

/** Path of the AssemblyScript source and of the committed binary. */
export const SOURCE = fileURLToPath(new URL("./pack.as", import.meta.url));
/** Path of the committed binary. */
export const BINARY = fileURLToPath(new URL("./pack.wasm", import.meta.url));
/** Path of the committed shared-memory binary. */
export const SHARED_BINARY = fileURLToPath(new URL("./pack-shared.wasm", import.meta.url));

/** Extra asc flags of the shared-memory build (shared memories need a maximum: 4 GiB, wasm32's limit). */
export const SHARED_FLAGS = ["--sharedMemory", "--maximumMemory", "65536", "--enable", "threads"];

/** Compiles the source and returns the binary (throws with the compiler's output on failure). */
export async function buildPackWasm(opts: { shared?: boolean } = {}): Promise<Uint8Array> {
  const asc = await import("assemblyscript/asc");
  const dir = await Deno.makeTempDir({ prefix: "kernel_pack_" });
  try {
    const src = join(dir, "pack.ts");
    const out = join(dir, "pack.wasm");
    await Deno.copyFile(SOURCE, src);
    let log = "";
    const { error } = await asc.main([src, "-o", out, ...ASC_FLAGS, ...(opts.shared ? SHARED_FLAGS : [])], {
      stdout: { write: (s: string) => (log += s, true) },
      stderr: { write: (s: string) => (log += s, true) },
    } as never);
    if (error) throw new Error(`build:kernels: asc failed: ${error.message}\n${log}`);
    return await Deno.readFile(out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
