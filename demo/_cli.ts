/**
 * Command-line pieces shared by the image and video demos: the option schema, backend choice,
 * run resolution and detector loading.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { type BackendName, initBackend } from "../runner/backend.ts";
import { formatHelp, parseArgs, resolveOptions } from "../runner/cli.ts";
import { OptionError, type Options, type OptionSpec } from "../core/options.ts";
import { COMMON_OPTIONS } from "../runner/schema.ts";
import { type FaceDetector, loadDetector } from "./detect.ts";
import { listRuns, loadRunPredictor, type Predictor, readRunConfig, TRAIN_HINT } from "./predictor.ts";

/** Flags of both demos (plus the common ones). */
export const DEMO_OPTIONS: OptionSpec[] = [
  ...COMMON_OPTIONS,
  {
    name: "run",
    type: "list",
    help:
      "Trained run directory (one multi-task run, or one per task); may repeat. Default: the newest under --runs_dir.",
  },
  { name: "runs_dir", type: "string", default: "runs", help: "Where to look for the newest run." },
  {
    name: "checkpoint",
    type: "enum",
    default: "best",
    choices: ["best", "last"],
    help: "Which checkpoint of each run.",
  },
  {
    name: "input",
    type: "string",
    help:
      "Image demo: a JPEG/PNG file or folder (default: face-api sample photos). Video demo: a GIF, or any video ffmpeg reads.",
  },
  {
    name: "detector",
    type: "enum",
    default: "tiny",
    choices: ["tiny", "ssd"],
    help: "face-api face detector.",
  },
  {
    name: "cascade",
    type: "string",
    help:
      "OpenCV Haar cascade XML (e.g. /usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml); " +
      "replaces --detector.",
  },
  {
    name: "min_score",
    type: "float",
    default: 0.5,
    min: 0,
    max: 1,
    help: "Minimum face-api detection score.",
  },
  {
    name: "scale_factor",
    type: "float",
    default: 1.3,
    min: 1.01,
    max: 4,
    help: "Haar cascade pyramid step.",
  },
  {
    name: "min_neighbors",
    type: "int",
    default: 5,
    min: 0,
    max: 100,
    help: "Haar cascade: a face needs more hits than this.",
  },
  { name: "font", type: "string", help: "TTF font for labels (default: DejaVuSans from npm or Debian)." },
];

/** Parse demo flags; returns null after printing help. */
export function parseDemoArgs(args: string[], title: string, extra: OptionSpec[] = []): Options | null {
  const specs = [...DEMO_OPTIONS, ...extra];
  const parsed = parseArgs(args, specs);
  if (parsed.positionals.length > 0) {
    throw new OptionError(`unexpected argument "${parsed.positionals[0]}" (flags are --name=value)`);
  }
  for (const w of parsed.warnings) console.error(`warning: ${w}`);
  const o = resolveOptions(specs, [], parsed.options);
  if (o.help) {
    const defaults = resolveOptions(specs, [], {});
    console.log(formatHelp(title, [
      { heading: "Demo", specs: [...DEMO_OPTIONS.slice(COMMON_OPTIONS.length), ...extra] },
      { heading: "Common", specs: COMMON_OPTIONS },
    ], defaults));
    console.log("Outputs go to --out, default <first run>/demo/.");
    return null;
  }
  return o;
}

/**
 * Select the backend: `auto` means stock wasm (every inference kernel the demos need exists there and
 * detection is ~10x faster than cpu), falling back to cpu.
 */
export async function demoBackend(o: Options): Promise<string> {
  const want = String(o.backend ?? "auto");
  if (want !== "auto") {
    await initBackend({ backend: want as BackendName, quiet: o.quiet === true });
    return tf.getBackend();
  }
  try {
    if (!(await tf.setBackend("wasm"))) throw new Error("wasm did not initialise");
  } catch {
    await tf.setBackend("cpu");
  }
  await tf.ready();
  return tf.getBackend();
}

/** The run directories to use: `--run` values, else the newest run; a clear error when none exists. */
export async function resolveRunDirs(o: Options): Promise<string[]> {
  const given = Array.isArray(o.run) ? o.run : [];
  if (given.length > 0) {
    for (const r of given) await readRunConfig(r);
    return given;
  }
  const root = String(o.runs_dir ?? "runs");
  const runs = await listRuns(root);
  if (runs.length === 0) {
    throw new OptionError(
      `no trained run under ${root}/ (a folder with config.json and checkpoint/best): train one first, ` +
        `e.g. \`${TRAIN_HINT}\`, or pass --run=DIR`,
    );
  }
  return [runs[0]];
}

/** Load one predictor per run directory. */
export async function loadPredictors(dirs: string[], o: Options): Promise<Predictor[]> {
  const out: Predictor[] = [];
  for (const d of dirs) {
    out.push(await loadRunPredictor(d, { checkpoint: o.checkpoint === "last" ? "last" : "best" }));
  }
  return out;
}

/** Load the detector the flags select. */
export async function demoDetector(o: Options): Promise<FaceDetector> {
  return await loadDetector({
    detector: o.detector === "ssd" ? "ssd" : "tiny",
    cascade: typeof o.cascade === "string" ? o.cascade : undefined,
    minScore: typeof o.min_score === "number" ? o.min_score : 0.5,
    scaleFactor: typeof o.scale_factor === "number" ? o.scale_factor : 1.3,
    minNeighbors: typeof o.min_neighbors === "number" ? o.min_neighbors : 5,
  });
}

/** Run a demo's main: option errors print one line and exit 2, other errors exit 1. */
export async function runMain(main: (args: string[]) => Promise<number>): Promise<void> {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    console.error(`error: ${msg}`);
    Deno.exit(e instanceof OptionError ? 2 : 1);
  }
}
