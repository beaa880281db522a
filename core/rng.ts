/**
 * Seeded pseudo-random numbers: one generator family drives shuffles, augmentation,
 * k-means/GMM initialisation, synthetic data and layer initialiser seeds.
 *
 * The generator is xoshiro128** seeded through splitmix32, so a run is reproducible from `--seed`
 * alone and its state can be saved in a checkpoint and restored exactly.
 * @module
 */

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Serializable generator state (four 32-bit words). */
export type RngState = [number, number, number, number];

/** A seeded generator with the helpers the toolkit needs. */
export class Rng {
  #s: Uint32Array;
  #spare: number | null = null;

  /** Seed from a number or a string (strings are hashed, so `derive("augment")` streams differ). */
  constructor(seed: number | string = 0) {
    const st = { s: typeof seed === "number" ? seed | 0 : hashString(seed) };
    this.#s = new Uint32Array([splitmix32(st), splitmix32(st), splitmix32(st), splitmix32(st)]);
    if (this.#s.every((v) => v === 0)) this.#s[0] = 1;
  }

  /** Next unsigned 32-bit integer. */
  nextU32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n). Unbiased (rejection sampling). */
  int(n: number): number {
    if (!(n >= 1)) throw new RangeError(`Rng.int: n must be >= 1, got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    let x: number;
    do x = this.nextU32(); while (x >= limit);
    return x % n;
  }

  /** Standard normal (Box-Muller, caches the second value). */
  normal(mean = 0, std = 1): number {
    if (this.#spare !== null) {
      const v = this.#spare;
      this.#spare = null;
      return mean + std * v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher-Yates shuffle; returns the array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** A child generator whose stream depends on this seed and a label, without advancing this one. */
  derive(label: string): Rng {
    const child = new Rng(label);
    const cs = child.#s;
    for (let i = 0; i < 4; i++) cs[i] ^= this.#s[i];
    if (cs.every((v) => v === 0)) cs[0] = 1;
    return child;
  }

  /** A 31-bit integer seed for tfjs initialisers. */
  seedInt(): number {
    return this.nextU32() >>> 1;
  }

  /** Current state, for checkpoints. */
  getState(): RngState {
    return [this.#s[0], this.#s[1], this.#s[2], this.#s[3]];
  }

  /** Restore a state saved by {@link Rng.getState}. */
  setState(state: RngState): void {
    this.#s.set(state);
    this.#spare = null;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** FNV-1a hash of a string to a 32-bit integer. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}
