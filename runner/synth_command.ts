/**
 * `deno task synth --out=DIR [--seed=0] [--size=64] [--n=ROWS] [--sheet=PATH] [--per_class=8]`: write the
 * synthetic datasets as image files, CSVs and hidden-truth JSON, with contact sheets (see
 * `datasets/synth_files.ts`). Flags follow the toolkit's schema: snake_case, `--help`, `--dry_run`, `--json`.
 * @module
 */
import { parseCommandArgs } from "./cli.ts";
import { bool, num, OptionError, type Options, type OptionSpec } from "../core/options.ts";
import { COMMON_OPTIONS } from "./schema.ts";
import { DEFAULT_DOMAIN_SHIFT } from "../datasets/synth/mod.ts";
import { checkOutDir } from "../core/out_dir.ts";
import { type SynthCliOptions, writeSynth } from "../datasets/synth_files.ts";

const NOT_READ = new Set(["backend", "threads"]);

/** Flags of `deno task synth`. */
export const SYNTH_OPTIONS: OptionSpec[] = [
  ...COMMON_OPTIONS.filter((s) => !NOT_READ.has(s.name)).map((s) =>
    s.name === "seed" ? { ...s, default: 0 } : s
  ),
  { name: "size", type: "int", default: 64, min: 8, max: 512, help: "Image side in pixels." },
  {
    name: "n",
    type: "int",
    min: 1,
    max: 1_000_000,
    help: "Rows per dataset (default: each dataset's own size).",
  },
  {
    name: "domain_shift",
    type: "float",
    min: 0,
    max: 1,
    help:
      `Domain shift between synth-emotion and synth-pose (0 = one face distribution; default ${DEFAULT_DOMAIN_SHIFT}).`,
  },
  { name: "sheet", type: "string", help: "Also write one combined contact sheet (PNG) here." },
  {
    name: "per_class",
    type: "int",
    default: 8,
    min: 1,
    max: 64,
    help: "Samples per class on the contact sheets.",
  },
];

/** Parse `deno task synth` arguments into the writer's options (null after printing help). */
export function parseSynthArgs(args: string[]): (SynthCliOptions & { o: Options }) | null {
  const o = parseCommandArgs(
    args,
    SYNTH_OPTIONS,
    "deno task synth --out=DIR [flags]: write the synthetic datasets as files",
  );
  if (!o) return null;
  if (typeof o.out !== "string") {
    throw new OptionError("--out: required (the folder to write the datasets into)");
  }
  return {
    o,
    out: o.out,
    seed: num(o, "seed"),
    size: num(o, "size"),
    n: typeof o.n === "number" ? o.n : undefined,
    domainShift: typeof o.domain_shift === "number" ? o.domain_shift : undefined,
    sheet: typeof o.sheet === "string" ? o.sheet : undefined,
    perClass: num(o, "per_class"),
  };
}

/** The synth command; returns an exit code. */
export async function runSynth(args: string[]): Promise<number> {
  const opts = parseSynthArgs(args);
  if (!opts) return 0;
  await checkOutDir(opts.out);
  if (opts.sheet) await checkOutDir(opts.sheet.replace(/[^/]*$/, "") || ".", "--sheet");
  const { o, ...writer } = opts;
  if (bool(o, "dry_run")) {
    const msg = { dryRun: { ...writer, written: false } };
    console.log(
      o.json ? JSON.stringify(msg, null, 2) : `dry run: would write the synthetic datasets into ${opts.out}`,
    );
    return 0;
  }
  const folders = await writeSynth(writer, bool(o, "quiet") ? () => {} : (s) => console.error(s));
  if (o.json) console.log(JSON.stringify({ folders }, null, 2));
  else console.log(`wrote ${folders.join(", ")}`);
  return 0;
}
