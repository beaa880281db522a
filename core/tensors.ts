/**
 * The TensorFlow.js types the toolkit's public contracts use, named here so that the API documentation
 * can show and link them (the tfjs packages' own declarations are not part of this package's docs).
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";

/** A tensor of any rank (`tf.Tensor`). */
export type Tensor = tf.Tensor;
/** A scalar tensor (`tf.Scalar`), e.g. a loss. */
export type Scalar = tf.Scalar;
/** A rank-1 tensor (`tf.Tensor1D`), e.g. a row mask. */
export type Tensor1D = tf.Tensor1D;
/** A rank-2 tensor (`tf.Tensor2D`), e.g. logits `[rows, classes]`. */
export type Tensor2D = tf.Tensor2D;
/** A rank-4 tensor (`tf.Tensor4D`), e.g. images `[n, height, width, channels]`. */
export type Tensor4D = tf.Tensor4D;
/** A trainable variable (`tf.Variable`). */
export type Variable = tf.Variable;
/** A Keras-style layers model of TensorFlow.js (`tf.LayersModel`). */
export type LayersModel = tfl.LayersModel;
/** A symbolic tensor of a layers model under construction (`tf.SymbolicTensor`). */
export type SymbolicTensor = tfl.SymbolicTensor;
