/**
 * Checkpoint state of a weighting whose only state is its random stream (PCGrad's task order, RLW's
 * weights): the stream's state, and a restore that ignores anything that is not one.
 * @module
 */
import type { Rng, RngState } from "../rng.ts";

/** `state` / `restore` of a strategy whose state is `rng`. */
export function rngStateOf(rng: Rng): { state: () => RngState; restore: (state: unknown) => void } {
  return {
    state: () => rng.getState(),
    restore(state) {
      if (Array.isArray(state) && state.length === 4) rng.setState(state as RngState);
    },
  };
}
