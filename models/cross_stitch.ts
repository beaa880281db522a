/**
 * The cross-stitch unit (docs/original.md §4.3) as a serializable tfjs-layers layer.
 *
 * Inputs are k feature tensors [B, d_i]; the layer concatenates them to z = [x_1 ‖ … ‖ x_k]
 * (width D = Σ d_i), computes u = z·W with one trainable D×D matrix initialised to the identity
 * (no bias), and splits u back at the cumulative input widths, so unequal widths are sliced correctly
 * (the original sliced the second half at the wrong offset, docs/original.md B32).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";

/** Constructor arguments of {@link CrossStitch} (the usual layer arguments: name, trainable, …). */
export interface CrossStitchArgs {
  /** Layer name (the builder uses `cross_stitch_<task>_<task>`). */
  name?: string;
  /** Whether the mixing matrix is trained (default true). */
  trainable?: boolean;
}

/** Full linear mixing of k branch features through one identity-initialised D×D matrix. */
export class CrossStitch extends tfl.layers.Layer {
  /** Class name used by tfjs serialization (model.json `class_name`). */
  static className = "CrossStitch";
  #kernel: tfl.LayerVariable | null = null;
  #widths: number[] = [];

  /** Create the layer; the matrix is created on first call, sized from the input widths. */
  constructor(args: CrossStitchArgs = {}) {
    super(args);
  }

  /** Per-input widths, known after build. */
  get widths(): number[] {
    return [...this.#widths];
  }

  /** Create the identity-initialised (Σ widths)² matrix. */
  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shapes = asShapeList(inputShape);
    if (shapes.length < 2) {
      throw new Error(`CrossStitch ${this.name}: needs at least 2 inputs, got ${shapes.length}`);
    }
    this.#widths = shapes.map((s, i) => {
      const d = s[s.length - 1];
      if (s.length !== 2 || d == null) {
        throw new Error(`CrossStitch ${this.name}: input ${i} must be [batch, width], got [${s.join(", ")}]`);
      }
      return d;
    });
    const total = this.#widths.reduce((a, b) => a + b, 0);
    this.#kernel = this.addWeight(
      "kernel",
      [total, total],
      "float32",
      tfl.initializers.identity({ gain: 1 }),
    );
    this.built = true;
  }

  /** One output per input, each of its input's shape. */
  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape[] {
    return asShapeList(inputShape).map((s) => [...s]);
  }

  /** Concatenate, multiply by the matrix, split at the input widths. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    return tf.tidy(() => {
      const xs = Array.isArray(inputs) ? inputs : [inputs];
      if (!this.#kernel) throw new Error(`CrossStitch ${this.name}: called before build`);
      const z = tf.concat(xs as tf.Tensor2D[], 1);
      const u = tf.matMul(z, this.#kernel.read() as tf.Tensor2D);
      return tf.split(u, this.#widths, 1);
    });
  }
}

function asShapeList(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape[] {
  if (inputShape.length > 0 && Array.isArray(inputShape[0])) return inputShape as tfl.Shape[];
  return [inputShape as tfl.Shape];
}

tf.serialization.registerClass(CrossStitch);
