/**
 * `deno task build:kernels [--check] [--out=DIR]`: compile the kernel pack (kernels/wasm/build.ts) into the
 * committed kernels/wasm/pack.wasm and pack-shared.wasm, or compare fresh builds with them (`--check`).
 * It lives with the other developer commands because it uses the runner's command-line pieces, which the
 * kernels layer may not import.
 * @module
 */
import { basename, join } from "node:path";
import { writeFileAtomic } from "../core/fs.ts";
import { OptionError, type OptionSpec } from "../core/options.ts";
import { exitCodeOf } from "../core/user_errors.ts";
import { benchJson } from "./_bench_json.ts";
import { parseCommandArgs } from "../runner/cli.ts";
import { COMMON_OPTIONS } from "../runner/schema.ts";
import { checkOutDir } from "../core/out_dir.ts";
import { BINARY, buildPackWasm, SHARED_BINARY } from "../kernels/wasm/build.ts";

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
  const o = parseCommandArgs(
    args,
    BUILD_KERNELS_OPTIONS,
    "deno task build:kernels [--check] [--out=DIR]: compile the kernel pack",
  );
  if (!o) return 0;
  const out = typeof o.out === "string" ? o.out : undefined;
  if (out !== undefined && o.check) throw new OptionError("--out: not with --check (which writes nothing)");
  if (o.dry_run && o.check) throw new OptionError("--dry_run: not with --check (which builds and compares)");
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
      await writeFileAtomic(path, wasm);
      binaries.push({ path, shared, bytes: wasm.length });
      say(`wrote ${path} (${wasm.length} bytes)`);
    }
  }
  if (o.json) console.log(benchJson("build-kernels", { dryRun: o.dry_run === true, binaries }));
  return binaries.some((b) => b.matches === false) ? 1 : 0;
}

if (import.meta.main) Deno.exit(await exitCodeOf(buildKernelsMain, Deno.args));
