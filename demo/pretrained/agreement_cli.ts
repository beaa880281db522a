/**
 * `deno task demo:agreement`: run a head set on hand-labelled real faces with the demo's own detector and
 * crops, and print the agreement table per head against its target. The heads are chosen as in the demos
 * (`--run`, `--heads=pretrained:...`), except that without either every pretrained head is measured, the
 * ones below their targets included (`--heads=pretrained` is the demos' default set); `--labels=FILE`
 * measures on your own labelled photos instead of the committed 44 faces. With `--out` the table and every
 * face's outcome are written there.
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../../core/fs.ts";
import { OptionError, type OptionSpec } from "../../core/options.ts";
import { checkOutDir } from "../../core/out_dir.ts";
import { COMMON_OPTIONS } from "../../runner/schema.ts";
import {
  demoBackend,
  demoDetector,
  demoSpecs,
  headsOption,
  loadHeadSources,
  parseDemoArgs,
  pretrainedTasksOf,
  resolveRunDirs,
  runMain,
} from "../_cli.ts";
import { PRETRAINED_TASKS } from "./heads.ts";
import { poseSide } from "./pose_from_mesh.ts";
import {
  agreementTable,
  type FaceOutcome,
  formatAgreement,
  labelledOutcomes,
  type LabelledPhoto,
  loadRealFaceLabels,
  REAL_FACE_LABELS,
} from "./real_faces.ts";

/** Format version of `agreement.json`. */
export const AGREEMENT_FORMAT_VERSION = 1;

/** The agreement command's own flags (besides the demos' head and detector flags). */
export const AGREEMENT_EXTRA_OPTIONS: OptionSpec[] = [
  {
    name: "labels",
    type: "string",
    help:
      "Hand labels (JSON: photos, each with its faces' centre, gender, smile, age and pose side); default: " +
      'the committed 44 real faces. A photo without "package" is a file relative to the labels file.',
  },
  { name: "faces", type: "boolean", default: false, help: "Also print every labelled face's outcome." },
];

const SPECS = {
  extra: AGREEMENT_EXTRA_OPTIONS,
  // No input image to draw on.
  omit: ["input", "font"],
  // The table exists to show which pretrained heads meet their targets, so by default it measures them all.
  heads: headsOption(PRETRAINED_TASKS),
};

/** Every flag of demo:agreement, the common ones first (as in `DEMO_OPTIONS`). */
export const AGREEMENT_OPTIONS: OptionSpec[] = [...COMMON_OPTIONS, ...demoSpecs(SPECS)];

function outcomeLine(o: FaceOutcome): string {
  const l = o.label;
  const said = o.heads
    ? Object.values(o.heads).map((p) =>
      `${p.task} ${p.task === "pose" ? poseSide(p.label) : p.label}${
        p.values?.years !== undefined ? ` (${p.values.years.toFixed(0)} y)` : ""
      }${p.values?.yaw_deg !== undefined ? ` (${p.values.yaw_deg.toFixed(0)} deg)` : ""}`
    ).join(", ")
    : "not detected";
  return `${o.photo} @${l.at.join(",")}: label ${l.gender}, ${l.smile ? "smile" : "no smile"}, ${l.age} y, ` +
    `${l.pose} | ${said}`;
}

/** The agreement command's command line; returns an exit code. */
export async function agreementMain(args: string[]): Promise<number> {
  const o = parseDemoArgs(args, {
    title: "deno task demo:agreement [--run=DIR]... [--heads=pretrained[:HEADS]|run] [--labels=FILE] " +
      "[--faces] [--out=DIR] [--detector=ssd|tiny | --cascade=FILE]",
    ...SPECS,
    footer: "Without --out nothing is written; --out=DIR writes agreement.json and agreement.md there.",
  });
  if (!o) return 0;
  const runs = await resolveRunDirs(o);
  if (o.heads === undefined && runs.length === 0) o.heads = `pretrained:${PRETRAINED_TASKS.join(",")}`;
  const pretrained = pretrainedTasksOf(o, runs);
  const labelsFile = typeof o.labels === "string" ? o.labels : REAL_FACE_LABELS;
  let photos: LabelledPhoto[];
  try {
    photos = await loadRealFaceLabels(labelsFile);
  } catch (e) {
    throw new OptionError(`--labels=${labelsFile}: ${(e as Error).message.replace(`${labelsFile}: `, "")}`);
  }
  const out = typeof o.out === "string" ? o.out : undefined;
  if (out !== undefined) await checkOutDir(out);
  const faceCount = photos.reduce((a, p) => a + p.faces.length, 0);
  if (o.dry_run) {
    const settings = {
      labels: labelsFile,
      photos: photos.length,
      faces: faceCount,
      runs,
      pretrained,
      detector: typeof o.cascade === "string" ? "haar" : o.detector,
      out: out ?? null,
      written: false,
    };
    console.log(
      o.json
        ? JSON.stringify(settings, null, 2)
        : `dry run: ${faceCount} labelled face(s) in ${photos.length} ` +
          `photo(s) from ${labelsFile}, run(s) ${runs.join(", ") || "none"}, pretrained heads ${
            pretrained.join(", ") || "none"
          }, detector ${settings.detector}; ${
            out ? `would write ${out}/agreement.{json,md}` : "prints only"
          }`,
    );
    return 0;
  }
  const backend = await demoBackend(o);
  const heads = await loadHeadSources(runs, o);
  try {
    const detector = await demoDetector(o);
    if (!o.quiet) {
      console.error(
        `measuring ${faceCount} labelled face(s) in ${photos.length} photo(s) (backend ${backend})`,
      );
    }
    const outcomes = await labelledOutcomes({ detector, heads, photos });
    const rows = agreementTable(outcomes);
    const sources = heads.map((h) => h.source);
    const table = formatAgreement(rows);
    const report = {
      formatVersion: AGREEMENT_FORMAT_VERSION,
      labels: labelsFile,
      detector: detector.name,
      sources,
      rows,
      outcomes,
    };
    if (out !== undefined) {
      await writeJsonAtomic(join(out, "agreement.json"), report);
      await writeFileAtomic(
        join(out, "agreement.md"),
        `Agreement of ${sources.join(" + ")} with ${labelsFile} (detector ${detector.name})\n\n${table}\n`,
      );
    }
    if (o.json) {
      console.log(JSON.stringify(report, null, 2));
      return 0;
    }
    if (o.faces) outcomes.forEach((f) => console.log(outcomeLine(f)));
    if (!o.quiet) console.log(`detector ${detector.name}, heads ${sources.join(" + ")}\n`);
    console.log(table);
    if (out !== undefined && !o.quiet) console.log(`\nwritten: ${join(out, "agreement.json")}, agreement.md`);
  } finally {
    heads.forEach((h) => h.dispose());
  }
  return 0;
}

if (import.meta.main) await runMain(agreementMain);
