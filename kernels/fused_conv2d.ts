/**
 * FusedConv2D (convolution + bias + activation, what tfjs-layers runs for a Conv2D layer with a
 * bias or an activation) on wasm: pack.wasm's direct convolution for bias + ReLU/linear, else stock.
 * @module
 */
import type { KernelFunc } from "@tensorflow/tfjs-core";
import { directOrStock } from "./conv2d.ts";

/** Kernel name in the tfjs registry. */
export const kernelName = "FusedConv2D";

/** y = act(conv(x, filter) + bias). */
export const kernelFunc: KernelFunc = directOrStock(kernelName);
