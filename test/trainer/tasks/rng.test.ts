import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Rng, hashString, mixSeed } from '../../../src/trainer/rng.js';

const GOLDEN_SEED_0 = [3809008728, 1133695204, 53579671];
const GOLDEN_MIX_1_2_3 = 957226782;
const GOLDEN_HASH_TRAIN = 2018864233;

/** xoshiro128** straight from the reference C code, in BigInt, to check the optimised version. */
function referenceXoshiro(words: [number, number, number, number], count: number): number[] {
  const mask = 0xffffffffn;
  let [s0, s1, s2, s3] = words.map(BigInt);
  const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (32n - k))) & mask;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    out.push(Number((rotl((s1 * 5n) & mask, 7n) * 9n) & mask));
    const t = (s1 << 9n) & mask;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11n);
  }
  return out;
}

function draws(rng: Rng, count: number): number[] {
  return Array.from({ length: count }, () => rng.nextUint32());
}

describe('Rng (xoshiro128**)', () => {
  it('matches the reference algorithm word for word', () => {
    const start: [number, number, number, number] = [1, 2, 3, 4];
    const rng = Rng.fromState({ algorithm: 'xoshiro128**', words: start });
    const expected = referenceXoshiro(start, 1000);
    assert.equal(expected[0], 11520); // rotl(2 * 5, 7) * 9
    assert.deepEqual(draws(rng, 1000), expected);

    const big: [number, number, number, number] = [0xdeadbeef, 0x80000001, 0xffffffff, 0x12345678];
    assert.deepEqual(draws(Rng.fromState({ algorithm: 'xoshiro128**', words: big }), 500), referenceXoshiro(big, 500));
  });

  it('gives the same stream for the same seed and different streams for different seeds', () => {
    assert.deepEqual(draws(new Rng(42), 20), draws(new Rng(42), 20));
    assert.notDeepEqual(draws(new Rng(42), 20), draws(new Rng(43), 20));
    // Seeds beyond 32 bits and negative seeds are distinct from their low words.
    assert.notDeepEqual(draws(new Rng(2 ** 40), 5), draws(new Rng(0), 5));
    assert.notDeepEqual(draws(new Rng(-1), 5), draws(new Rng(0xffffffff), 5));
  });

  it('pins the seeding so streams stay identical across versions and platforms', () => {
    // Golden values: if these change, every saved task set and checkpoint changes with them.
    assert.deepEqual(draws(new Rng(0), 3), GOLDEN_SEED_0);
    assert.equal(mixSeed(1, 2, 3), GOLDEN_MIX_1_2_3);
    assert.equal(hashString('train'), GOLDEN_HASH_TRAIN);
  });

  it('rejects seeds that are not safe integers', () => {
    assert.throws(() => new Rng(1.5), RangeError);
    assert.throws(() => new Rng(Number.NaN), RangeError);
    assert.throws(() => new Rng(2 ** 60), RangeError);
  });

  it('round-trips its state through JSON and continues the same stream', () => {
    const rng = new Rng(7);
    draws(rng, 13);
    const saved = JSON.parse(JSON.stringify(rng.getState()));
    const expected = draws(rng, 50);
    const resumed = Rng.fromState(saved);
    assert.deepEqual(draws(resumed, 50), expected);
    const other = new Rng(99);
    other.setState(saved);
    assert.deepEqual(draws(other, 50), expected);
    for (const word of saved.words) assert.ok(Number.isInteger(word) && word >= 0 && word < 2 ** 32);
  });

  it('rejects malformed or all-zero states', () => {
    const rng = new Rng(1);
    assert.throws(() => rng.setState({ algorithm: 'xoshiro128**', words: [0, 0, 0, 0] }), RangeError);
    assert.throws(() => rng.setState({ algorithm: 'xoshiro128**', words: [1, 2, 3, -1] }), RangeError);
    assert.throws(() => rng.setState({ algorithm: 'other', words: [1, 2, 3, 4] } as never), TypeError);
  });

  it('next() is in [0, 1) and int(n) in [0, n)', () => {
    fc.assert(fc.property(fc.integer(), fc.integer({ min: 1, max: 2 ** 32 }), (seed, n) => {
      const rng = new Rng(seed);
      for (let i = 0; i < 20; i++) {
        const x = rng.next();
        assert.ok(x >= 0 && x < 1);
        const k = rng.int(n);
        assert.ok(Number.isInteger(k) && k >= 0 && k < n);
      }
    }), { numRuns: 200 });
    assert.throws(() => new Rng(1).int(0), RangeError);
    assert.throws(() => new Rng(1).int(2.5), RangeError);
  });

  it('int(n) is close to uniform', () => {
    const rng = new Rng(3);
    const buckets = new Array<number>(6).fill(0);
    const total = 60000;
    for (let i = 0; i < total; i++) buckets[rng.int(6)]++;
    for (const count of buckets) assert.ok(Math.abs(count - total / 6) < total / 6 * 0.05, `bucket ${count}`);
  });

  it('normal() has mean 0 and standard deviation 1', () => {
    const rng = new Rng(5);
    const values = Array.from({ length: 20000 }, () => rng.normal());
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
    assert.ok(Math.abs(Math.sqrt(variance) - 1) < 0.03, `sd ${Math.sqrt(variance)}`);
    assert.ok(values.every(Number.isFinite));
  });

  it('shuffle permutes and pick chooses from the array', () => {
    const rng = new Rng(11);
    const items = Array.from({ length: 30 }, (_, i) => i);
    const shuffled = rng.shuffle([...items]);
    assert.notDeepEqual(shuffled, items);
    assert.deepEqual([...shuffled].sort((a, b) => a - b), items);
    for (let i = 0; i < 100; i++) assert.ok(items.includes(rng.pick(items)));
    assert.throws(() => rng.pick([]), RangeError);
  });
});
