/**
 * Routing of tfjs' AdamOptimizer.applyGradients to a fused update while a pack is active on the
 * current backend (kernels/_route_method.ts). Optimizers are created all over the toolkit (trainer,
 * benches, tests) with `tf.train.adam`; routing inside the class keeps every caller, the checkpoint
 * format (the same m/v variables and names) and `getWeights`/`setWeights` unchanged. Each pack (CPU:
 * kernels/adam_update.ts, WebGPU: kernels/webgpu/fused_adam.ts) installs one route; a call no route
 * claims runs tfjs' own method.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { NamedTensorMap } from "@tensorflow/tfjs-core";
import { routeMethod } from "./_route_method.ts";

/** The gradients argument of applyGradients. */
export type AdamGrads = NamedTensorMap | { name: string; tensor: tf.Tensor }[];

/** The AdamOptimizer fields a fused update reads and writes (tfjs-core 4.22). */
export interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  readonly iterations: number;
  incrementIterations(): void;
}

/** One variable to update: its value, gradient and moment variables. */
export interface AdamSlot {
  value: tf.Variable;
  gradient: tf.Tensor;
  m: tf.Variable;
  v: tf.Variable;
}

/**
 * The variables of one applyGradients call, creating missing moment variables exactly as tfjs does
 * (zeros, not trainable, named `<variable>/m` and `/v`); variables without a gradient are skipped.
 * Call inside a tidy.
 */
export function adamSlots(self: AdamInternals, grads: AdamGrads): AdamSlot[] {
  const names = Array.isArray(grads) ? grads.map((v) => v.name) : Object.keys(grads);
  const registered = tf.engine().registeredVariables as Record<string, tf.Variable>;
  const slots: AdamSlot[] = [];
  names.forEach((name, i) => {
    const value = registered[name];
    self.accumulatedFirstMoment[i] ??= {
      originalName: `${name}/m`,
      variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
    };
    self.accumulatedSecondMoment[i] ??= {
      originalName: `${name}/v`,
      variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
    };
    const gradient = Array.isArray(grads) ? grads[i].tensor : grads[name];
    if (gradient == null) return;
    slots.push({
      value,
      gradient,
      m: self.accumulatedFirstMoment[i].variable,
      v: self.accumulatedSecondMoment[i].variable,
    });
  });
  return slots;
}

/**
 * Installs a route once per `key`: while `active()` holds, applyGradients calls `fused` (which
 * must update the variables, the accumulated β variables and the iteration count as tfjs does);
 * otherwise the previous method (another route, or tfjs' own).
 */
export function installAdamRoute(
  key: string,
  active: () => boolean,
  fused: (self: AdamInternals, grads: AdamGrads) => void,
): void {
  routeMethod<[AdamGrads], void>(
    tf.AdamOptimizer.prototype,
    "applyGradients",
    key,
    (self, [grads], next) => active() ? fused(self as AdamInternals, grads) : next(),
  );
}
