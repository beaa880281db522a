/**
 * Command-line pieces shared by the demos (image, video, agreement): the option schema, backend choice,
 * run resolution, detector loading and the exit code of an error.
 * @module
 */
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { type BackendName, initBackend } from "../runner/backend.ts";
import { formatHelp, parseFlagsOnly, resolveOptions } from "../runner/cli.ts";
import { exitCodeOf } from "../core/user_errors.ts";
import { OptionError, type Options, type OptionSpec } from "../core/options.ts";
import { COMMON_OPTIONS } from "../runner/schema.ts";
import { type FaceDetector, loadDetector } from "./detect.ts";
import { type HeadSource, listRuns, loadRunPredictor, readRunConfig, TRAIN_HINT } from "./predictor.ts";
import { DEFAULT_PRETRAINED_TASKS, loadPretrainedHeads, parsePretrainedTasks } from "./pretrained/heads.ts";

/** Where the demos write when no run is involved and no `--out` is given. */
export const PRETRAINED_OUT = "runs/demo_pretrained";

/**
 * The `--heads` flag, whose help names what a command uses when neither `--run` nor `--heads` is given
 * (`unflagged`: the demos draw the heads that meet their targets, the agreement table measures them all).
 */
export function headsOption(unflagged: readonly string[]): OptionSpec {
  return {
    name: "heads",
    type: "string",
    help:
      `Where heads come from (without --run or --heads: pretrained ${
        unflagged.join(", ")
      }): \`pretrained\` ` +
      `(${
        DEFAULT_PRETRAINED_TASKS.join(", ")
      }: the heads that meet their targets), \`pretrained:age,gender\` ` +
      "(those from pretrained, the rest from --run), or `run` (all from --run).",
  };
}

/** Flags of the image and video demos (plus the common ones); demo:agreement takes most of them. */
export const DEMO_OPTIONS: OptionSpec[] = [
  ...COMMON_OPTIONS,
  {
    name: "run",
    type: "list",
    help:
      "Trained run directory (one multi-task run, or one per task); may repeat; `newest` = the newest run " +
      "under --runs_dir. Without --run the demos use the pretrained real-face heads.",
  },
  headsOption(DEFAULT_PRETRAINED_TASKS),
  { name: "runs_dir", type: "string", default: "runs", help: "Where --run=newest looks." },
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
    default: "ssd",
    choices: ["tiny", "ssd"],
    help: "face-api face detector (ssd finds 43 of 44 labelled real faces, tiny 35; tiny is faster).",
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

/** Options of {@link parseDemoArgs} and {@link demoSpecs}. */
export interface DemoArgsOptions {
  /** The usage line printed by `--help`. */
  title: string;
  /** Flags of this command only (the video demo's `--frames`...). */
  extra?: OptionSpec[];
  /** Demo flags this command does not take (the agreement table has no `--input` or `--font`). */
  omit?: string[];
  /** Replaces the demos' `--heads` (its help names this command's default). */
  heads?: OptionSpec;
  /** Printed under `--help`: where the command writes. */
  footer?: string;
}

/** A demo command's own flags (the common ones not included), in help order. */
export function demoSpecs(opts: Omit<DemoArgsOptions, "title" | "footer">): OptionSpec[] {
  return [
    ...DEMO_OPTIONS.slice(COMMON_OPTIONS.length)
      .filter((s) => !opts.omit?.includes(s.name))
      .map((s) => s.name === "heads" && opts.heads ? opts.heads : s),
    ...(opts.extra ?? []),
  ];
}

/** Parse demo flags; returns null after printing help. */
export function parseDemoArgs(args: string[], opts: DemoArgsOptions): Options | null {
  const own = demoSpecs(opts);
  const specs = [...COMMON_OPTIONS, ...own];
  const o = resolveOptions(specs, [], parseFlagsOnly(args, specs).options);
  if (o.help) {
    const defaults = resolveOptions(specs, [], {});
    const groups = [{ heading: "Demo", specs: own }, { heading: "Common", specs: COMMON_OPTIONS }];
    const json = o.json === true;
    console.log(formatHelp(opts.title, groups, defaults, { json }));
    if (!json) {
      console.log(
        opts.footer ?? `Outputs go to --out, default <first run>/demo/, or ${PRETRAINED_OUT}/ without --run.`,
      );
    }
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

/**
 * The run directories to use: the `--run` values (`newest` = the newest run under --runs_dir, a clear
 * error when there is none); none when --run is not given (the pretrained heads answer).
 */
export async function resolveRunDirs(o: Options): Promise<string[]> {
  const given = Array.isArray(o.run) ? o.run : [];
  const out: string[] = [];
  for (const r of given) {
    if (r !== "newest") {
      await readRunConfig(r);
      out.push(r);
      continue;
    }
    const root = String(o.runs_dir ?? "runs");
    const runs = await listRuns(root);
    if (runs.length === 0) {
      throw new OptionError(
        `--run=newest: no trained run under ${root}/ (a folder with config.json and checkpoint/best): ` +
          `train one first, e.g. \`${TRAIN_HINT}\`, or pass --run=DIR`,
      );
    }
    out.push(runs[0]);
  }
  return out;
}

/** Which heads come from the pretrained set (none: all from the runs), checked against the flags. */
export function pretrainedTasksOf(o: Options, runs: string[]): string[] {
  const h = typeof o.heads === "string" ? o.heads.trim() : undefined;
  if (h === undefined) return runs.length > 0 ? [] : [...DEFAULT_PRETRAINED_TASKS];
  if (h === "run") {
    if (runs.length === 0) throw new OptionError("--heads=run: give the run with --run=DIR");
    return [];
  }
  if (h === "pretrained") return [...DEFAULT_PRETRAINED_TASKS];
  if (h.startsWith("pretrained:")) {
    try {
      return parsePretrainedTasks(h.slice("pretrained:".length));
    } catch (e) {
      throw new OptionError(`--heads=${h}: ${(e as Error).message}`);
    }
  }
  throw new OptionError(`--heads=${h}: expected pretrained, pretrained:HEAD,HEAD... or run`);
}

/** Default output folder: `<first run>/demo`, or {@link PRETRAINED_OUT} without a run. */
export function defaultOutDir(runs: string[]): string {
  return runs.length > 0 ? join(runs[0], "demo") : PRETRAINED_OUT;
}

/** Load the head sources: the pretrained heads the flags select first, then one predictor per run. */
export async function loadHeadSources(runs: string[], o: Options): Promise<HeadSource[]> {
  const out: HeadSource[] = [];
  try {
    const pre = pretrainedTasksOf(o, runs);
    if (pre.length > 0) out.push(await loadPretrainedHeads({ tasks: pre }));
    for (const d of runs) {
      out.push(await loadRunPredictor(d, { checkpoint: o.checkpoint === "last" ? "last" : "best" }));
    }
  } catch (e) {
    out.forEach((p) => p.dispose());
    throw e;
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

/** Run a demo's main as a program: user errors exit 2 (`exitCodeOf`), other errors exit 1. */
export async function runMain(main: (args: string[]) => Promise<number>): Promise<void> {
  try {
    Deno.exit(await exitCodeOf(main, Deno.args));
  } catch (e) {
    console.error(`error: ${(e as Error).message ?? String(e)}`);
    Deno.exit(1);
  }
}
