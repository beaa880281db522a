/**
 * `deno task build:kernels`: compiles kernels/wasm/pack.as (AssemblyScript, WebAssembly SIMD) into
 * kernels/wasm/pack.wasm with the pinned compiler (npm assemblyscript 0.28.20). The source has the
 * `.as` extension so Deno's own check/lint/fmt leave it alone; asc needs `.ts`, so it is compiled from
 * a temporary copy. Two binaries: pack.wasm imports an ordinary memory, pack-shared.wasm a shared one
 * (the backend's memory when the pack runs threads, kernels/threads.ts); a module can only import the
 * kind of memory it declares. `--check` compares fresh builds with the committed binaries instead of
 * writing them; `--out=DIR` writes them elsewhere; `--dry_run` builds nothing.
 * @module
 */
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../../core/fs.ts";
import { OptionError, type OptionSpec } from "../../core/options.ts";
import { exitCodeOf } from "../../core/user_errors.ts";
import { formatHelp, parseArgs, resolveOptions } from "../../runner/cli.ts";
import { COMMON_OPTIONS } from "../../runner/schema.ts";
import { checkOutDir } from "../../runner/out_dir.ts";

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

/** Flags of `deno task build:kernels`. */
export const BUILD_KERNELS_OPTIONS: OptionSpec[] = [
  ...COMMON_OPTIONS.filter((o) => ["out", "quiet", "dry_run", "json", "help"].includes(o.name)),
  {
    name: "check",
    type: "boolean",
    default: false,
    help: "Compare fresh builds with the committed binaries instead of writing them (exit 1 when stale).",
  },
];

/** One binary of the pack, as built and written (or compared). */
export interface BuiltBinary {
  /** Where it is written (or the committed file compared with, under --check). */
  path: string;
  /** Shared-memory build. */
  shared: boolean;
  /** Its size (0 under --dry_run, which builds nothing). */
  bytes: number;
  /** Under --check: whether the committed file equals the fresh build. */
  matches?: boolean;
}

/**
 * `deno task build:kernels [--check] [--out=DIR]`; returns the exit code: 0, or 1 when `--check` finds a
 * committed binary stale. `--out` writes the two binaries there instead of over the committed ones;
 * `--dry_run` validates the flags and the output folder and builds nothing.
 */
export async function buildKernelsMain(args: string[]): Promise<number> {
  const parsed = parseArgs(args, BUILD_KERNELS_OPTIONS);
  if (parsed.positionals.length > 0) {
    throw new OptionError(`unexpected argument "${parsed.positionals[0]}" (flags start with --)`);
  }
  const o = resolveOptions(BUILD_KERNELS_OPTIONS, [], parsed.options);
  if (o.help) {
    console.log(formatHelp("deno task build:kernels [--check] [--out=DIR]: compile the kernel pack", [
      { heading: "Flags", specs: BUILD_KERNELS_OPTIONS },
    ], { ...o, help: false }));
    return 0;
  }
  const out = typeof o.out === "string" ? o.out : undefined;
  if (out !== undefined && o.check) throw new OptionError("--out: not with --check (which writes nothing)");
  if (out !== undefined) await checkOutDir(out);
  const say = (line: string) => {
    if (!o.quiet && !o.json) console.log(line);
  };
  const binaries: BuiltBinary[] = [];
  for (const [committed, shared] of [[BINARY, false], [SHARED_BINARY, true]] as const) {
    const path = out === undefined ? committed : join(out, basename(committed));
    if (o.dry_run) {
      binaries.push({ path, shared, bytes: 0 });
      say(`dry run: would build ${path}`);
      continue;
    }
    const wasm = await buildPackWasm({ shared });
    if (o.check) {
      const old = await Deno.readFile(committed);
      const matches = old.length === wasm.length && old.every((b, i) => b === wasm[i]);
      binaries.push({ path, shared, bytes: wasm.length, matches });
      say(matches ? `${path} matches the source` : `${path} is stale: run deno task build:kernels`);
    } else {
      if (out !== undefined) await Deno.mkdir(out, { recursive: true });
      await writeFileAtomic(path, wasm);
      binaries.push({ path, shared, bytes: wasm.length });
      say(`wrote ${path} (${wasm.length} bytes)`);
    }
  }
  if (o.json) console.log(JSON.stringify({ dryRun: o.dry_run === true, binaries }, null, 2));
  return binaries.some((b) => b.matches === false) ? 1 : 0;
}

if (import.meta.main) Deno.exit(await exitCodeOf(buildKernelsMain, Deno.args));
