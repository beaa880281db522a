/**
 * Checkpoints: model weights, optimizer slots and arbitrary JSON state plus typed-array blobs in one
 * directory, written atomically and verified on load.
 *
 * Layout of a checkpoint directory: `manifest.json` plus generation-numbered data files
 * (`weights-<g>.bin`, `optimizer-<g>.bin`, `state-<g>.json`, `blobs-<g>.bin`). A save writes the new
 * generation's files (each via temp file + rename), then replaces `manifest.json` atomically, then
 * removes the previous generation. A crash at any point leaves the old manifest pointing at intact
 * files. Each file's SHA-256 is in the manifest and is checked on load.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { join } from "node:path";
import { writeFileAtomic } from "../core/fs.ts";
import type { MultiTaskModel } from "../core/types.ts";

/** A typed array stored next to the JSON state (e.g. teacher targets). */
export type CheckpointBlob = Float32Array | Int32Array | Uint8Array;

/** What {@link saveCheckpoint} stores. */
export interface SaveCheckpointArgs {
  /** The model whose weights (BN moving statistics included) are saved. */
  model: MultiTaskModel | tfl.LayersModel;
  /** Optimizer whose slots (`getWeights()`) are saved; Adam's bias-correction accumulators too. */
  optimizer?: tf.Optimizer;
  /** Any JSON-serialisable value (epoch, batch, RNG state, options, …). */
  state?: unknown;
  /** Named typed arrays stored in one binary file (e.g. teacher targets). */
  blobs?: Record<string, CheckpointBlob>;
}

interface FileEntry {
  sha256: string;
  bytes: number;
}

interface BlobSpec {
  name: string;
  dtype: "float32" | "int32" | "uint8";
  offset: number;
  length: number;
}

/** The manifest (`manifest.json`). */
export interface CheckpointManifest {
  /** Format tag. */
  format: "sa-mtl-checkpoint";
  /** Format version. */
  version: 1;
  /** Save counter; data files carry it in their names. */
  generation: number;
  /** ISO time of the save. */
  created: string;
  /** The LayersModel's name (backbone and tasks). */
  modelName: string;
  /** Every data file with its byte size and SHA-256. */
  files: Record<string, FileEntry>;
  /** The weights file and its tensor specs (`<layer>/<param>` names). */
  weights: { file: string; specs: tf.io.WeightsManifestEntry[] };
  /** The optimizer file, or null when no optimizer was saved. */
  optimizer: {
    /** Binary file of the slots. */
    file: string;
    /** Optimizer class (`Adam`, …); restoring into another class is refused. */
    className: string;
    /** The optimizer's config (learning rate, betas, …), for the record. */
    config: Record<string, unknown>;
    /** Tensor specs: `slot<i>` in `getWeights()` order, then `accBeta1`/`accBeta2` for Adam. */
    specs: tf.io.WeightsManifestEntry[];
    /** Model weight key each slot belongs to (for error messages), in slot order. */
    slotKeys: string[];
  } | null;
  /** The JSON state file. */
  state: { file: string };
  /** The blobs file and where each blob lies in it. */
  blobs: { file: string; specs: BlobSpec[] };
}

const MANIFEST = "manifest.json";

type NamedTensor = { name: string; tensor: tf.Tensor };

function layersModel(model: MultiTaskModel | tfl.LayersModel): tfl.LayersModel {
  return "model" in model && "apply" in model && "tasks" in model ? model.model : model as tfl.LayersModel;
}

/** The model's weights keyed `<layer>/<param>`, independent of tfjs' global variable-name suffixes. */
export function namedModelWeights(model: MultiTaskModel | tfl.LayersModel): Map<string, tfl.LayerVariable> {
  const m = layersModel(model);
  const out = new Map<string, tfl.LayerVariable>();
  for (const layer of m.layers) {
    for (const w of layer.weights) {
      const key = `${layer.name}/${w.originalName.split("/").pop()}`;
      if (out.has(key)) throw new Error(`model ${m.name}: duplicate weight key ${key}`);
      out.set(key, w);
    }
  }
  return out;
}

/** Lowercase hex SHA-256 of some bytes. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function readManifest(dir: string): Promise<CheckpointManifest | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, MANIFEST));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  try {
    const m = JSON.parse(text) as CheckpointManifest;
    if (m.format !== "sa-mtl-checkpoint") throw new Error("not a checkpoint manifest");
    return m;
  } catch (e) {
    throw new Error(`checkpoint ${join(dir, MANIFEST)}: unreadable manifest (${(e as Error).message})`);
  }
}

function optimizerAccumulators(opt: tf.Optimizer): Record<string, tf.Variable> {
  const o = opt as unknown as Record<string, unknown>;
  const out: Record<string, tf.Variable> = {};
  for (const k of ["accBeta1", "accBeta2"]) {
    if (o[k] instanceof tf.Variable) out[k] = o[k] as tf.Variable;
  }
  return out;
}

function blobDtype(b: CheckpointBlob): BlobSpec["dtype"] {
  if (b instanceof Float32Array) return "float32";
  if (b instanceof Int32Array) return "int32";
  if (b instanceof Uint8Array) return "uint8";
  throw new Error("checkpoint blobs must be Float32Array, Int32Array or Uint8Array");
}

/**
 * Save model weights, optimizer slots, JSON state and blobs to `dir` (created if needed), atomically.
 * The previous checkpoint in `dir` stays valid until the new manifest is in place.
 */
export async function saveCheckpoint(dir: string, args: SaveCheckpointArgs): Promise<CheckpointManifest> {
  await Deno.mkdir(dir, { recursive: true });
  const previous = await readManifest(dir).catch(() => null);
  const g = (previous?.generation ?? 0) + 1;
  const files: Record<string, Uint8Array> = {};

  const weights = namedModelWeights(args.model);
  const named: NamedTensor[] = [...weights].map(([name, w]) => ({ name, tensor: w.read() }));
  const enc = await tf.io.encodeWeights(named);
  const weightsFile = `weights-${g}.bin`;
  files[weightsFile] = new Uint8Array(enc.data);

  let optimizer: CheckpointManifest["optimizer"] = null;
  if (args.optimizer) {
    const slots = await args.optimizer.getWeights();
    const keyOf = new Map([...weights].map(([k, w]) => [(w.read() as tf.Variable).name, k]));
    const slotKeys = slots.map((s) => {
      const base = s.name.replace(/\/[^/]+$/, "");
      return s.name === "iter" ? "iter" : `${keyOf.get(base) ?? base}/${s.name.split("/").pop()}`;
    });
    const acc = optimizerAccumulators(args.optimizer);
    const all: NamedTensor[] = [
      ...slots.map((s, i) => ({ name: `slot${i}`, tensor: s.tensor })),
      ...Object.entries(acc).map(([k, v]) => ({ name: k, tensor: v as tf.Tensor })),
    ];
    const oenc = await tf.io.encodeWeights(all);
    if (slots[0]?.name === "iter") slots[0].tensor.dispose(); // getWeights() makes a fresh `iter` scalar
    const file = `optimizer-${g}.bin`;
    files[file] = new Uint8Array(oenc.data);
    optimizer = {
      file,
      className: args.optimizer.getClassName(),
      config: args.optimizer.getConfig() as Record<string, unknown>,
      specs: oenc.specs,
      slotKeys,
    };
  }

  const stateFile = `state-${g}.json`;
  files[stateFile] = new TextEncoder().encode(JSON.stringify(args.state ?? null) + "\n");

  const specs: BlobSpec[] = [];
  let offset = 0;
  for (const [name, b] of Object.entries(args.blobs ?? {})) {
    specs.push({ name, dtype: blobDtype(b), offset, length: b.length });
    offset += Math.ceil(b.byteLength / 8) * 8;
  }
  const blobBytes = new Uint8Array(offset);
  Object.values(args.blobs ?? {}).forEach((b, i) =>
    blobBytes.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), specs[i].offset)
  );
  const blobsFile = `blobs-${g}.bin`;
  files[blobsFile] = blobBytes;

  const entries: Record<string, FileEntry> = {};
  for (const [name, data] of Object.entries(files)) {
    await writeFileAtomic(join(dir, name), data);
    entries[name] = { sha256: await sha256Hex(data), bytes: data.byteLength };
  }
  const manifest: CheckpointManifest = {
    format: "sa-mtl-checkpoint",
    version: 1,
    generation: g,
    created: new Date().toISOString(),
    modelName: layersModel(args.model).name,
    files: entries,
    weights: { file: weightsFile, specs: enc.specs },
    optimizer,
    state: { file: stateFile },
    blobs: { file: blobsFile, specs },
  };
  await writeFileAtomic(join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
  for (const name of Object.keys(previous?.files ?? {})) {
    if (!(name in entries)) await Deno.remove(join(dir, name)).catch(() => {});
  }
  return manifest;
}

/** A verified checkpoint read into memory. */
export interface Checkpoint {
  /** The checkpoint directory. */
  dir: string;
  /** Its manifest. */
  manifest: CheckpointManifest;
  /** The saved JSON state. */
  state: unknown;
  /** The saved blobs, as typed arrays of their saved types. */
  blobs: Record<string, CheckpointBlob>;
  /**
   * Write the saved weights into a model with the same layers (all weights must match by `<layer>/<param>`
   * name and shape; when only auto-generated names differ, by position with identical shapes).
   */
  restoreModel(model: MultiTaskModel | tfl.LayersModel): void;
  /** Load the saved slots into a fresh optimizer of the same class; returns false when none were saved. */
  restoreOptimizer(optimizer: tf.Optimizer): Promise<boolean>;
}

/** True when `dir` holds a checkpoint manifest. */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  return (await readManifest(dir)) !== null;
}

/** Read a checkpoint and verify every file's size and SHA-256 (a mismatch names the file). */
export async function openCheckpoint(dir: string): Promise<Checkpoint> {
  const manifest = await readManifest(dir);
  if (!manifest) throw new Error(`checkpoint ${dir}: no ${MANIFEST} (not a checkpoint directory)`);
  const data: Record<string, Uint8Array> = {};
  for (const [name, entry] of Object.entries(manifest.files)) {
    const path = join(dir, name);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new Error(`checkpoint ${path}: file missing`);
      throw e;
    }
    if (bytes.byteLength !== entry.bytes || (await sha256Hex(bytes)) !== entry.sha256) {
      throw new Error(`checkpoint ${path}: checksum mismatch (file corrupt or modified)`);
    }
    data[name] = bytes;
  }
  const buf = (name: string) => {
    const b = data[name];
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  };
  const state = JSON.parse(new TextDecoder().decode(data[manifest.state.file]));
  const blobs: Record<string, CheckpointBlob> = {};
  const blobBuf = buf(manifest.blobs.file);
  for (const s of manifest.blobs.specs) {
    const ctor = s.dtype === "float32" ? Float32Array : s.dtype === "int32" ? Int32Array : Uint8Array;
    blobs[s.name] = new ctor(blobBuf.slice(s.offset, s.offset + s.length * ctor.BYTES_PER_ELEMENT));
  }

  return {
    dir,
    manifest,
    state,
    blobs,
    restoreModel(model) {
      const weights = namedModelWeights(model);
      const saved = tf.io.decodeWeights(buf(manifest.weights.file), manifest.weights.specs);
      try {
        const missing = [...weights.keys()].filter((k) => !(k in saved));
        const extra = Object.keys(saved).filter((k) => !weights.has(k));
        const ours = [...weights.entries()];
        const order = manifest.weights.specs.map((s) => s.name);
        // Layers a plugin creates without a name get process-dependent auto names (dense_Dense3 vs
        // dense_Dense7); when only names differ, the same build order still lines the weights up.
        const positional = (missing.length > 0 || extra.length > 0) && order.length === ours.length &&
          ours.every(([, w], i) => saved[order[i]].shape.join(",") === w.shape.join(","));
        if ((missing.length || extra.length) && !positional) {
          const miss = missing.slice(0, 5).join(", ") || "-";
          const more = extra.slice(0, 5).join(", ") || "-";
          throw new Error(
            `checkpoint ${dir}: model does not match (missing in checkpoint: ${miss}; not in model: ${more})`,
          );
        }
        const pairs = ours.map(([k, w], i) => [k, w, saved[positional ? order[i] : k]] as const);
        for (const [k, w, t] of pairs) {
          if (t.shape.join(",") !== w.shape.join(",")) {
            throw new Error(`checkpoint ${dir}: ${k} has shape [${t.shape}], the model needs [${w.shape}]`);
          }
        }
        for (const [, w, t] of pairs) w.write(t);
      } finally {
        tf.dispose(Object.values(saved));
      }
    },
    async restoreOptimizer(optimizer) {
      const o = manifest.optimizer;
      if (!o) return false;
      if (o.className !== optimizer.getClassName()) {
        throw new Error(
          `checkpoint ${dir}: optimizer is ${o.className}, cannot restore into ${optimizer.getClassName()}`,
        );
      }
      const saved = tf.io.decodeWeights(buf(o.file), o.specs);
      const slots = o.slotKeys.map((name, i) => ({ name, tensor: saved[`slot${i}`] }));
      await optimizer.setWeights(slots);
      const acc = optimizerAccumulators(optimizer);
      for (const [k, v] of Object.entries(acc)) if (saved[k]) v.assign(saved[k]);
      tf.dispose(Object.values(saved));
      return true;
    },
  };
}

/** Options of {@link loadCheckpoint}. */
export interface LoadCheckpointOptions {
  /** Model to restore the weights into. */
  model?: MultiTaskModel | tfl.LayersModel;
  /** Fresh optimizer (same class as saved) to restore the slots into. */
  optimizer?: tf.Optimizer;
}

/** Verify and load a checkpoint into a model (and optimizer); returns the JSON state and blobs. */
export async function loadCheckpoint(
  dir: string,
  opts: LoadCheckpointOptions = {},
): Promise<{ state: unknown; blobs: Record<string, CheckpointBlob>; manifest: CheckpointManifest }> {
  const ck = await openCheckpoint(dir);
  if (opts.model) ck.restoreModel(opts.model);
  if (opts.optimizer) await ck.restoreOptimizer(opts.optimizer);
  return { state: ck.state, blobs: ck.blobs, manifest: ck.manifest };
}
