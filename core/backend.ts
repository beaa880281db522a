/**
 * Backend selection (placeholder until the engine lands: cpu or stock wasm, no kernel pack).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";

/** Backends accepted by `--backend`. */
export type BackendName = "auto" | "tensorflow" | "webgpu" | "wasm" | "cpu";

/** What was selected, for run configs. */
export interface BackendInfo {
  name: string;
  kernelPack: string | null;
  simd: boolean;
  threads: number;
}

/** Select and initialise a backend. */
export async function initBackend(
  opts: { backend?: BackendName; quiet?: boolean } = {},
): Promise<BackendInfo> {
  const want = opts.backend ?? "auto";
  const name = want === "auto" ? "cpu" : want;
  await tf.setBackend(name);
  await tf.ready();
  return { name: tf.getBackend(), kernelPack: null, simd: false, threads: 1 };
}
