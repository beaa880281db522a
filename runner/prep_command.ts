/**
 * `deno task prep --dataset=NAME [--root=DIR] [--out=DIR] [--seed=N] [--limit=N]`: the command line of
 * {@link runPrep} (datasets/prep.ts), read by the same parser as every other command, so its flags take
 * the same forms (`--flag value`, `True`/`False`, dataset aliases such as `fer+`) and a typo gets a
 * did-you-mean.
 * @module
 */
import { formatHelp, parseFlagsOnly, resolveOptions } from "./cli.ts";
import { COMMON_OPTIONS } from "./schema.ts";
import { OptionError, type Options, type OptionSpec } from "../core/options.ts";
import { isUserError } from "../core/user_errors.ts";
import { type PrepOptions, runPrep } from "../datasets/prep.ts";
import { LOADERS } from "../datasets/loaders/mod.ts";
import { REAL_DATASETS } from "../datasets/label_spaces.ts";

const USAGE =
  "deno task prep --dataset=NAME [--root=DIR] [--out=DIR] [flags]: prepare a real dataset you downloaded";

/** Flags of `deno task prep` (it runs no tensors, so `--backend` and `--threads` are not among them). */
export const PREP_OPTIONS: OptionSpec[] = [
  ...COMMON_OPTIONS.filter((s) => s.name !== "backend" && s.name !== "threads").map((s) =>
    s.name === "out"
      ? { ...s, help: "Where db/ and prepared/ are written (default data); the loaders read from here." }
      : s.name === "seed"
      ? { ...s, help: "Seed of the --limit subset." }
      : s.name === "dry_run"
      // prep has always taken --dry-run too.
      ? { ...s, aliases: ["dry-run"] }
      : s
  ),
  {
    name: "dataset",
    type: "enum",
    choices: REAL_DATASETS,
    help: "The real dataset to prepare (required).",
  },
  { name: "root", type: "string", help: "The raw dataset folder (default <out>/<usual folder>)." },
  {
    name: "limit",
    type: "int",
    min: 1,
    max: 100_000_000,
    help: "Keep a seeded random subset of at most this many rows (quick experiments).",
  },
];

/** Every loader's default folder and the layouts it reads, for `--help`. */
function layoutsText(): string {
  const lines = ["Datasets and the layouts each loader reads:"];
  for (const l of Object.values(LOADERS)) {
    lines.push(`  ${l.name} (${l.title}; default root <out>/${l.folder}):`);
    for (const lay of l.layouts) lines.push(`      ${lay}`);
  }
  return lines.join("\n");
}

/**
 * The flags of `deno task prep`, typed as {@link runPrep} takes them; null after printing `--help` (as JSON
 * with `--json`).
 */
export function parsePrepArgs(args: string[]): PrepOptions | null {
  const o: Options = resolveOptions(PREP_OPTIONS, [], parseFlagsOnly(args, PREP_OPTIONS).options);
  if (o.help) {
    const json = o.json === true;
    console.log(
      formatHelp(USAGE, [{ heading: "Flags", specs: PREP_OPTIONS }], resolveOptions(PREP_OPTIONS, [], {}), {
        json,
      }),
    );
    if (!json) {
      console.log(
        "Writes <out>/db/<name>_cleaned.csv (db_name, full_path, task columns, split, extras) and face crops\n" +
          "under <out>/prepared/<name>/. Re-running reuses finished work.\n",
      );
      console.log(layoutsText());
    }
    return null;
  }
  if (typeof o.dataset !== "string") {
    throw new OptionError(`--dataset: required (one of ${REAL_DATASETS.join(", ")})`);
  }
  return {
    dataset: o.dataset,
    root: typeof o.root === "string" ? o.root : undefined,
    out: typeof o.out === "string" ? o.out : undefined,
    seed: o.seed as number,
    limit: typeof o.limit === "number" ? o.limit : undefined,
    quiet: o.quiet === true,
    dryRun: o.dry_run === true,
    json: o.json === true,
  };
}

/**
 * `deno task prep`: parse, then {@link runPrep}; returns the exit code. User errors (a bad flag, a dataset
 * missing or not in its layout) are thrown to the caller (exit 2); any other failure, e.g. a crop that cannot
 * be written, is the job's: one `error:` line and exit 1, as before, since a re-run resumes where it stopped.
 */
export async function runPrepCommand(args: string[]): Promise<number> {
  const opts = parsePrepArgs(args);
  if (!opts) return 0;
  try {
    await runPrep(opts);
    return 0;
  } catch (e) {
    if (isUserError(e)) throw e;
    console.error(`error: ${(e as Error).message.split("\n")[0]}`);
    return 1;
  }
}
