/**
 * How one head's answer is written (JSON) and drawn (label line): label, probability and every class's
 * probability as before, plus what the head was trained on, the model behind a pretrained head, and
 * its estimates (age in years, pose yaw). A head trained only on synthetic faces is marked in both.
 * @module
 */
import type { HeadPrediction, HeadSource, TrainedOn } from "./predictor.ts";

/** A head's answer as written to the demos' JSON (`faces[].heads.<task>`). */
export interface HeadJson {
  /** Arg-max label. */
  label: string;
  /** Its probability. */
  prob: number;
  /** Every class's probability by label. */
  probs: Record<string, number>;
  /** `real`, `synthetic` or `mixed` (absent when the run does not say). */
  trained_on?: TrainedOn;
  /** The model behind a pretrained head. */
  model?: string;
  /** Age estimate in years (age heads that give one). */
  years?: number;
  /** Yaw estimate in degrees, negative = facing the image's left (pose heads that give one). */
  yaw_deg?: number;
}

function round(v: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(v * k) / k;
}

/** The JSON form of a head's answer. */
export function headJson(h: HeadPrediction): HeadJson {
  const out: HeadJson = { label: h.label, prob: h.prob, probs: h.probs };
  if (h.trainedOn) out.trained_on = h.trainedOn;
  if (h.model) out.model = h.model;
  if (h.values?.years !== undefined) out.years = round(h.values.years, 1);
  if (h.values?.yaw_deg !== undefined) out.yaw_deg = round(h.values.yaw_deg, 1);
  return out;
}

/** Text after the label in the picture: `27 y` for an age estimate, `[synthetic]` for synthetic heads. */
export function headNote(h: Pick<HeadJson, "trained_on" | "years">): string | undefined {
  const parts: string[] = [];
  if (h.years !== undefined) parts.push(`${Math.round(h.years)} y`);
  if (h.trained_on === "synthetic") parts.push("[synthetic]");
  return parts.length > 0 ? parts.join(" ") : undefined;
}

/** The warning banner for heads that never saw a real face, or undefined when there are none. */
export function syntheticBanner(sources: HeadSource[]): string | undefined {
  const seen = new Set<string>();
  const synthetic: string[] = [];
  for (const s of sources) {
    for (const t of s.tasks) {
      if (seen.has(t.name)) continue;
      seen.add(t.name);
      if (s.trainedOn?.[t.name] === "synthetic") synthetic.push(t.name);
    }
  }
  return synthetic.length > 0
    ? `trained on synthetic faces only, not real predictions: ${synthetic.join(", ")}`
    : undefined;
}
