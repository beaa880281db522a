/**
 * LEL-LTN's label embedding layer (after Augenstein, Ruder & Søgaard, NAACL 2018): the labels of all tasks
 * live in one shared e-dimensional space (a trainable (ΣC_t)×e matrix), each task projects its feature tap
 * to e dims, and the task's logits are the dot products of that vector with the task's label embeddings,
 * so related labels of different tasks can share structure. A re-design: the original code has no label
 * embedding (docs/original.md §6.3, B18). Plugged in through the model builder's {@link ModelExtension} hook.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { ExtensionContext, ExtensionResult, ModelExtension, TaskName } from "./types.ts";

/** Constructor arguments of {@link LabelEmbeddingLogits}. */
export interface LabelEmbeddingArgs {
  /** Class count of each task, in input order. */
  classCounts: number[];
  /** Embedding width e (`label_embedding_dim`). */
  dim: number;
  /** Seed of the Glorot-uniform initialiser. */
  seed?: number;
  name?: string;
  trainable?: boolean;
}

type Shape = (number | null)[];

/**
 * Takes one e-dim input per task and returns one logits tensor per task: logits_t = h_t · L_tᵀ, where
 * L_t is task t's block of rows of the shared embedding matrix L ((ΣC_t)×e).
 */
export class LabelEmbeddingLogits extends tfl.layers.Layer {
  /** Name under which the layer is (de)serialised. */
  static className = "LabelEmbeddingLogits";
  /** Class count per task. */
  readonly classCounts: number[];
  /** Embedding width. */
  readonly dim: number;
  /** Initialiser seed. */
  readonly seed?: number;
  #embedding?: tfl.LayerVariable;

  constructor(args: LabelEmbeddingArgs) {
    super({ name: args.name, trainable: args.trainable });
    if (!Array.isArray(args.classCounts) || args.classCounts.length === 0) {
      throw new Error("LabelEmbeddingLogits: classCounts must list at least one task");
    }
    for (const c of args.classCounts) {
      if (!Number.isInteger(c) || c < 1) throw new Error(`LabelEmbeddingLogits: bad class count ${c}`);
    }
    if (!Number.isInteger(args.dim) || args.dim < 1) {
      throw new Error(
        `LabelEmbeddingLogits: --label_embedding_dim must be a positive integer, got ${args.dim}`,
      );
    }
    this.classCounts = [...args.classCounts];
    this.dim = args.dim;
    this.seed = args.seed;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shapes = asShapeList(inputShape);
    if (shapes.length !== this.classCounts.length) {
      throw new Error(`LabelEmbeddingLogits: ${shapes.length} inputs for ${this.classCounts.length} tasks`);
    }
    shapes.forEach((s, t) => {
      if (s[s.length - 1] !== this.dim) {
        throw new Error(
          `LabelEmbeddingLogits: input ${t} has width ${s[s.length - 1]}, expected ${this.dim}`,
        );
      }
    });
    const total = this.classCounts.reduce((a, b) => a + b, 0);
    this.#embedding = this.addWeight(
      "embedding",
      [total, this.dim],
      "float32",
      tfl.initializers.glorotUniform({ seed: this.seed }),
    );
    this.built = true;
  }

  /** The shared (ΣC_t)×e embedding matrix. */
  get embedding(): tfl.LayerVariable {
    if (!this.#embedding) throw new Error("LabelEmbeddingLogits: layer not built yet");
    return this.#embedding;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape[] {
    return asShapeList(inputShape).map((s, t) => [s[0], this.classCounts[t]]);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    return tf.tidy(() => {
      const e = this.embedding.read();
      let offset = 0;
      return xs.map((x, t) => {
        const block = tf.slice(e, [offset, 0], [this.classCounts[t], this.dim]);
        offset += this.classCounts[t];
        return tf.matMul(x as tf.Tensor2D, block as tf.Tensor2D, false, true);
      });
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { classCounts: this.classCounts, dim: this.dim };
    if (this.seed !== undefined) config.seed = this.seed;
    return { ...super.getConfig(), ...config };
  }
}
tf.serialization.registerClass(LabelEmbeddingLogits);

function asShapeList(s: Shape | Shape[]): Shape[] {
  return Array.isArray(s[0]) ? (s as Shape[]) : [s as Shape];
}

/** Options of {@link labelEmbeddingExtension}. */
export interface LabelEmbeddingOptions {
  /** Embedding width e (`label_embedding_dim`, default 64). */
  dim?: number;
}

/**
 * Model extension: per task a linear projection (`<task>_label_proj`, Dense e) of the feature tap, and the
 * shared `label_embedding` layer that turns the projections into the tasks' logits (replacing the default
 * heads' logits). Tasks without a feature tap keep their default logits.
 */
export function labelEmbeddingExtension(opts: LabelEmbeddingOptions = {}): ModelExtension {
  const dim = opts.dim ?? 64;
  return (ctx: ExtensionContext): ExtensionResult => {
    const tasks = ctx.tasks.filter((t) => ctx.features[t.name] !== undefined);
    if (tasks.length === 0) throw new Error("labelEmbeddingExtension: no task has a feature tap");
    const projected = tasks.map((t, i) =>
      tfl.layers.dense({
        units: dim,
        name: `${t.name}_label_proj`,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: ctx.seed + 1 + i }),
      }).apply(ctx.features[t.name] as tfl.SymbolicTensor) as tfl.SymbolicTensor
    );
    const layer = new LabelEmbeddingLogits({
      classCounts: tasks.map((t) => t.classes),
      dim,
      seed: ctx.seed,
      name: "label_embedding",
    });
    const out = layer.apply(projected) as tfl.SymbolicTensor[];
    const logits: Partial<Record<TaskName, tfl.SymbolicTensor>> = {};
    tasks.forEach((t, i) => (logits[t.name] = out[i]));
    return { logits };
  };
}
