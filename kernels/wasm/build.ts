/**
 * `deno task build:kernels`: compiles kernels/wasm/pack.as (AssemblyScript, WebAssembly SIMD) into
 * kernels/wasm/pack.wasm with the pinned compiler (npm assemblyscript 0.28.20). The source has the
 * `.as` extension so Deno's own check/lint/fmt leave it alone; asc needs `.ts`, so it is compiled from
 * a temporary copy. `--check` compares a fresh build with the committed binary instead of writing it.
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../../core/fs.ts";

/** asc flags: shared (imported) memory, no runtime, no bounds-check traps, SIMD, optimised. */
export const ASC_FLAGS = [
  "--importMemory",
  "--runtime",
  "stub",
  "--noAssert",
  "-O3",
  "--enable",
  "simd",
  "--noExportMemory",
];

/** Path of the AssemblyScript source and of the committed binary. */
export const SOURCE = fileURLToPath(new URL("./pack.as", import.meta.url));
/** Path of the committed binary. */
export const BINARY = fileURLToPath(new URL("./pack.wasm", import.meta.url));

/** Compiles the source and returns the binary (throws with the compiler's output on failure). */
export async function buildPackWasm(): Promise<Uint8Array> {
  const asc = await import("assemblyscript/asc");
  const dir = await Deno.makeTempDir({ prefix: "kernel_pack_" });
  try {
    const src = join(dir, "pack.ts");
    const out = join(dir, "pack.wasm");
    await Deno.copyFile(SOURCE, src);
    let log = "";
    const { error } = await asc.main([src, "-o", out, ...ASC_FLAGS], {
      stdout: { write: (s: string) => (log += s, true) },
      stderr: { write: (s: string) => (log += s, true) },
    } as never);
    if (error) throw new Error(`build:kernels: asc failed: ${error.message}\n${log}`);
    return await Deno.readFile(out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const wasm = await buildPackWasm();
  if (Deno.args.includes("--check")) {
    const committed = await Deno.readFile(BINARY);
    const same = committed.length === wasm.length && committed.every((b, i) => b === wasm[i]);
    console.log(same ? "pack.wasm matches the source" : "pack.wasm is stale: run deno task build:kernels");
    if (!same) Deno.exit(1);
  } else {
    await writeFileAtomic(BINARY, wasm);
    console.log(`wrote ${BINARY} (${wasm.length} bytes)`);
  }
}
