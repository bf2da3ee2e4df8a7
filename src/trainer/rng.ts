/**
 * Seeded pseudo-random numbers for everything the trainer draws (tasks, sampling order, noise).
 *
 * Why our own: `Math.random` cannot be seeded or checkpointed. This is xoshiro128** (Blackman & Vigna)
 * seeded through splitmix32, written with 32-bit integer maths (`Math.imul`, `>>>`) only, so the same
 * seed gives the same stream on every platform and JS engine. The state is four uint32 words and
 * round-trips through JSON (`getState`/`setState`), so a resumed run continues the exact stream.
 * `normal()` is the one method that uses floating-point library calls (`Math.log`, `Math.cos`); the
 * task images never use it, so they stay byte-identical everywhere.
 */

/** The generator's full state as plain JSON, for checkpoints. */
export interface RngState {
  algorithm: 'xoshiro128**';
  words: [number, number, number, number];
}

const TWO_POW_32 = 4294967296;

function rotateLeft(value: number, shift: number): number {
  return ((value << shift) | (value >>> (32 - shift))) >>> 0;
}

/** One splitmix32 step: returns the next state and a well-mixed output word. */
function splitmix32(state: number): { state: number; output: number } {
  const next = (state + 0x9e3779b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return { state: next, output: (z ^ (z >>> 16)) >>> 0 };
}

/** Splits a seed (any safe integer, negative allowed) into its low and high 32-bit words. */
function seedWords(seed: number): [number, number] {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${String(seed)}`);
  const low = seed >>> 0;
  const high = Math.floor(seed / TWO_POW_32) >>> 0;
  return [low, high];
}

/**
 * Hashes a list of integers into one uint32 (murmur3-style mixing). Used to derive independent
 * streams, e.g. `mixSeed(runSeed, splitCode, taskIndex)`; order matters.
 */
export function mixSeed(...parts: number[]): number {
  let hash = 0x2545f491;
  for (const part of parts) {
    for (const word of seedWords(part)) {
      let k = Math.imul(word, 0xcc9e2d51);
      k = rotateLeft(k >>> 0, 15);
      k = Math.imul(k, 0x1b873593);
      hash = (hash ^ k) >>> 0;
      hash = rotateLeft(hash, 13);
      hash = (Math.imul(hash, 5) + 0xe6546b64) >>> 0;
    }
  }
  hash ^= parts.length;
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/** FNV-1a hash of a string's UTF-16 code units, for turning names (e.g. a split) into seed parts. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export class Rng {
  private w0 = 0;
  private w1 = 0;
  private w2 = 0;
  private w3 = 0;

  /** A generator seeded from any safe integer; different seeds give unrelated streams. */
  constructor(seed: number) {
    const [low, high] = seedWords(seed);
    let state = (low ^ Math.imul(high, 0x9e3779b1)) >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const step = splitmix32(state);
      state = step.state;
      words.push(step.output);
    }
    this.assign(words);
  }

  /** A generator that continues from a saved state. */
  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.setState(state);
    return rng;
  }

  /** The next raw 32-bit output as an unsigned integer. */
  nextUint32(): number {
    // Words are kept as signed int32 (V8 stores those unboxed); only the output is made unsigned.
    const s0 = this.w0;
    const s1 = this.w1;
    const s2 = this.w2 ^ s0;
    const s3 = this.w3 ^ s1;
    const scaled = Math.imul(s1, 5);
    const result = Math.imul((scaled << 7) | (scaled >>> 25), 9) >>> 0;
    this.w0 = s0 ^ s3;
    this.w1 = s1 ^ s2;
    this.w2 = s2 ^ (s1 << 9);
    this.w3 = (s3 << 11) | (s3 >>> 21);
    return result;
  }

  /** A uniform float in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** A uniform integer in [0, n), unbiased (rejection sampling); n is an integer in 1..2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) throw new RangeError(`int(n) needs an integer n in 1..2^32, got ${n}`);
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const value = this.nextUint32();
      if (value < limit) return value % n;
    }
  }

  /** A uniform integer in [min, max], both ends included. */
  intBetween(min: number, max: number): number {
    if (max < min) throw new RangeError(`intBetween: max ${max} < min ${min}`);
    return min + this.int(max - min + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A normal deviate (Box-Muller). Uses Math.log/cos: exact bits may differ between JS engines. */
  normal(mean = 0, standardDeviation = 1): number {
    const u = 1 - this.next(); // (0, 1]: log(0) never happens
    const v = this.next();
    return mean + standardDeviation * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty array');
    return items[this.int(items.length)];
  }

  /** Shuffles the array in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const held = items[i];
      items[i] = items[j];
      items[j] = held;
    }
    return items;
  }

  getState(): RngState {
    return { algorithm: 'xoshiro128**', words: [this.w0 >>> 0, this.w1 >>> 0, this.w2 >>> 0, this.w3 >>> 0] };
  }

  setState(state: RngState): void {
    if (state?.algorithm !== 'xoshiro128**' || !Array.isArray(state.words) || state.words.length !== 4) {
      throw new TypeError('setState: expected { algorithm: "xoshiro128**", words: [4 uint32] }');
    }
    this.assign(state.words);
  }

  private assign(words: readonly number[]): void {
    for (const word of words) {
      if (!Number.isInteger(word) || word < 0 || word >= TWO_POW_32) throw new RangeError(`state word ${word} is not a uint32`);
    }
    if (words.every((word) => word === 0)) throw new RangeError('xoshiro128** state must not be all zeros');
    [this.w0, this.w1, this.w2, this.w3] = words.map((word) => word | 0);
  }
}
