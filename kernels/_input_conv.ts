/**
 * The first convolution of a model without the gradient of its input image. tfjs' fused conv2d
 * (what tfjs-layers' Conv2D calls) computes the gradients of all its inputs in one custom gradient,
 * so training computes dL/d(image), which nothing reads (3.3 ms of an 88 ms mini-Xception 48 px step
 * on one thread). The unfused tf.conv2d registers one gradient function per input, and tfjs' tape
 * only calls those on a path to the variables. This routes a Conv2D layer with a linear activation
 * to tf.conv2d (+ bias) while a gradient is being recorded and its input is a leaf of the tape (not
 * a variable, not produced by a recorded op); the values are the same kernels' (Conv2D then a bias
 * Add instead of FusedConv2D), and every other call keeps tfjs-layers' code.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { routeMethod } from "./_route_method.ts";

interface ConvInternals {
  rank: number;
  dataFormat: string;
  padding: string;
  strides: number[];
  dilationRate: number[];
  activation: { getClassName(): string };
  kernel: { read(): tf.Tensor };
  bias: { read(): tf.Tensor } | null;
}

interface EngineState {
  activeTape: { outputs: tf.Tensor[] }[] | null;
}

/** Whether a gradient is being recorded and `x` is a leaf of it (no recorded op produced it). */
function isTapeLeaf(x: tf.Tensor): boolean {
  const tape = (tf.engine().state as unknown as EngineState).activeTape;
  if (!tape || x instanceof tf.Variable) return false;
  for (const node of tape) {
    for (const o of node.outputs) if (o && o.id === x.id) return false;
  }
  return true;
}

/** Installs the route once; `active()` says whether it applies on the current backend. */
export function installInputConvRoute(active: () => boolean): void {
  const proto = Object.getPrototypeOf(tfl.layers.conv2d({ filters: 1, kernelSize: 1 })) as object;
  routeMethod<[tf.Tensor | tf.Tensor[], Record<string, unknown>], tf.Tensor>(
    proto,
    "call",
    "cpu-pack",
    (layer, [inputs], next) => {
      const self = layer as ConvInternals;
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (
        !active() || (Array.isArray(inputs) && inputs.length !== 1) || self.rank !== 2 || x.rank !== 4 ||
        self.dataFormat !== "channelsLast" || self.padding === "causal" ||
        self.activation.getClassName() !== "linear" || !isTapeLeaf(x)
      ) {
        return next();
      }
      return tf.tidy(() => {
        const y = tf.conv2d(
          x as tf.Tensor4D,
          self.kernel.read() as tf.Tensor4D,
          self.strides as [number, number],
          self.padding === "same" ? "same" : "valid",
          "NHWC",
          self.dilationRate as [number, number],
        );
        return self.bias ? tf.add(y, self.bias.read()) : y;
      });
    },
  );
}
