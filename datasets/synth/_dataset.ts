/**
 * The dataset API: {@link generateSynth} renders a dataset in memory (rows derived from name, seed and
 * knobs, each row from its own random stream, so row i does not depend on n), and {@link loadSynth} /
 * {@link loadSynthTruth} serve it through the shared embedded-dataset cache, keyed by a hash of
 * {@link SYNTH_VERSION}, the knobs and the domain. Separate from the renderer so caching, labels and splits
 * never reach into drawing code.
 * @module
 */
import { Rng } from "../../core/rng.ts";
import type { ImageSet, LoadOptions, TaskName, TaskSpec } from "../../core/types.ts";
import {
  configHash,
  type EmbeddedOptions,
  type EmbeddedSource,
  type EmbeddedTruth,
  type GeneratedRows,
  generatedRows,
  loadRows,
  loadTruth,
  toImageSet,
} from "../_embedded_cache.ts";
import { faceTask } from "../embedded_labels.ts";
import { poseLabel, sampleAttributes } from "./_face_attributes.ts";
import { planFace } from "./_face_plan.ts";
import { type Identity, makeIdentity } from "./_identities.ts";
import {
  checkName,
  SYNTH_PRESETS,
  SYNTH_VERSION,
  type SynthDifficulty,
  synthDifficulty,
  synthPreset,
} from "./_presets.ts";
import { renderPlan } from "./_render_face.ts";

/** Options of the synthetic generator. */
export interface SynthOptions {
  /** Seed of every row's and every identity's random stream. */
  seed: number;
  /** Image side in pixels. */
  size: number;
  /** Rows (default from the preset). */
  n?: number;
  /** Overrides of the preset's nuisance knobs. */
  difficulty?: Partial<SynthDifficulty>;
  /** Domain shift of the emotion/pose pair in [0, 1] (default `DEFAULT_DOMAIN_SHIFT`; other datasets ignore it). */
  domainShift?: number;
}

/** A generated synthetic dataset: pixels, own labels, and the full truth of every row. */
export interface SynthData {
  /** Pixels (8-bit RGB) and the labels of the dataset's own tasks. */
  rows: GeneratedRows;
  /** Every face task's label plus the continuous attributes of every row (evaluation only). */
  truth: EmbeddedTruth;
}

/**
 * Generate a synthetic dataset in memory (deterministic from name, seed and knobs; row i does not depend on n
 * or on the image size except through the pixel grid).
 */
export function generateSynth(name: string, opts: SynthOptions): SynthData {
  const nm = checkName(name);
  const preset = synthPreset(nm, opts.domainShift);
  const n = opts.n ?? preset.n;
  const size = opts.size;
  if (!(Number.isInteger(size) && size >= 8 && size <= 1024)) {
    throw new RangeError(`synth: size must be an integer in [8, 1024], got ${size}`);
  }
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`synth: n must be a positive integer, got ${n}`);
  const d = synthDifficulty(nm, opts.difficulty, opts.domainShift);
  const domain = preset.domain;
  const root = new Rng(opts.seed).derive(`synth:${nm}`);
  const idRoot = new Rng(opts.seed).derive("synth-identities");
  const rgb = new Uint8Array(n * size * size * 3);
  const truth = {
    emotion: new Int32Array(n),
    pose: new Int32Array(n),
    gender: new Int32Array(n),
    age: new Int32Array(n),
  };
  const attr = {
    yaw: new Float32Array(n),
    pitch: new Float32Array(n),
    roll: new Float32Array(n),
    ageYears: new Float32Array(n),
    identity: new Float32Array(n),
    intensity: new Float32Array(n),
  };
  const identities = new Map<number, Identity>();
  for (let i = 0; i < n; i++) {
    const r = root.derive(`row:${i}`);
    const id = domain.identityBase + r.int(domain.identities);
    let ident = identities.get(id);
    if (!ident) {
      ident = makeIdentity(id, domain, d, idRoot);
      identities.set(id, ident);
    }
    const a = sampleAttributes(r, domain, d, ident, id);
    const plan = planFace(a, ident, r, domain, d);
    renderPlan(plan, size, r, rgb, i * size * size * 3);
    truth.emotion[i] = a.emotion;
    truth.pose[i] = poseLabel(a.yaw, d.yawLabelNoise, root, i);
    truth.gender[i] = a.gender;
    truth.age[i] = a.ageGroup;
    attr.yaw[i] = a.yaw;
    attr.pitch[i] = a.pitch;
    attr.roll[i] = a.roll;
    attr.ageYears[i] = a.ageYears;
    attr.identity[i] = a.identity;
    attr.intensity[i] = a.intensity;
  }
  const own: Partial<Record<TaskName, Int32Array>> = {};
  for (const t of domain.tasks) own[t] = truth[t as keyof typeof truth].slice();
  return {
    rows: { n, size, rgb, labels: own },
    truth: { dataset: nm, n, labels: truth, attributes: attr },
  };
}

/** Task specs a synthetic dataset is labelled for. */
export function synthTasks(name: string): TaskSpec[] {
  return SYNTH_PRESETS[checkName(name)].domain.tasks.map((t) => faceTask(t));
}

/** Options of {@link loadSynth}. */
export type SynthLoadOptions = LoadOptions & EmbeddedOptions & {
  difficulty?: Partial<SynthDifficulty>;
  /** Domain shift of the emotion/pose pair (see {@link SynthOptions.domainShift}). */
  domainShift?: number;
};

function source(name: string, opts: SynthLoadOptions): EmbeddedSource {
  const nm = checkName(name);
  const preset = synthPreset(nm, opts.domainShift);
  const n = generatedRows(opts.size ?? preset.n, opts);
  const key = {
    name: nm,
    seed: opts.seed,
    size: opts.imageSize,
    n,
    hash: synthDataVersion(nm, opts),
  };
  return {
    kind: "synth",
    key,
    generate: () =>
      generateSynth(nm, {
        seed: opts.seed,
        size: opts.imageSize,
        n,
        difficulty: opts.difficulty,
        domainShift: opts.domainShift,
      }),
  };
}

/**
 * The version of a synthetic dataset's generated rows: a hash of the renderer version and every knob and domain
 * number in effect (overrides and shift applied). It changes exactly when the same seed and size would give
 * other rows or labels; it is the cache key's hash, and comparisons record it to refuse resuming on other data.
 */
export function synthDataVersion(
  name: string,
  opts: { difficulty?: Partial<SynthDifficulty>; domainShift?: number } = {},
): string {
  const nm = checkName(name);
  const d = synthDifficulty(nm, opts.difficulty, opts.domainShift);
  return configHash({ v: SYNTH_VERSION, d, domain: synthPreset(nm, opts.domainShift).domain });
}

/** Load (generate or read from `.cache/synth/`) a synthetic dataset as an {@link ImageSet}; never reads the truth file. */
export async function loadSynth(name: string, opts: SynthLoadOptions): Promise<ImageSet> {
  const rows = await loadRows(source(name, opts), opts);
  return toImageSet(name, rows, { ...opts, tasks: synthTasks(name) });
}

/** The hidden truth of every row (all four face tasks plus yaw, pitch, roll, age in years, identity). */
export function loadSynthTruth(name: string, opts: SynthLoadOptions): Promise<EmbeddedTruth> {
  return loadTruth(source(name, opts), opts);
}
