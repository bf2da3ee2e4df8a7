/**
 * The paper's rollout batch as the panels' DOM tests and test/webview/measure/panelsAt128x8.ts feed it: a step of
 * 128 prompt groups x G 8 rollouts shaped as the trainer writes them (built-in suite lengths), and a step's
 * metrics (every metric of the table), and a thumbnail to serve for its images.
 */
import { crc32, deflateSync } from 'node:zlib';
import { METRIC, type RolloutGroup } from '../../src/protocol/index.js';

export const PROMPTS = 128;
export const G = 8;

/** The rollouts of a fixture group: rewards 1 = right, advantages as GRPO's (mean and sample std of the group). */
export function fixtureRollouts(rewards: number[], response: (reward: number, k: number) => string): RolloutGroup['rollouts'] {
  const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
  const std = Math.sqrt(rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / (rewards.length - 1));
  const advantage = (r: number) => (std > 0 ? (r - mean) / std : 0);
  return rewards.map((r, k) => ({
    response: response(r, k),
    reward: r,
    format: 1,
    accuracy: r,
    meanLogprob: -0.5 - k / 100,
    advantage: advantage(r),
    advantageGrpo: advantage(r),
    components: { grpo: advantage(r), perceptual: 0.1 * k, reasoning: -0.1 * k },
  }));
}

/** A group as the trainer writes one (built-in suite lengths: a ~90-char question, ~40-char responses). */
export function paperGroup(step: number, i: number): RolloutGroup {
  // Every 8th group all wrong, the next all right (zero variance), the others mixed.
  const rewards: number[] = Array.from({ length: G }, (_, k) => (i % 8 === 0 ? 0 : i % 8 === 1 ? 1 : (i * 7 + k * 3 + step) % 5 < 2 ? 1 : 0));
  const mean = rewards.reduce((a, b) => a + b, 0) / G;
  const std = Math.sqrt(rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / (G - 1));
  return {
    promptId: `train-${String(step * 1000 + i).padStart(7, '0')}`,
    question: `How many red circles are there in the picture, plus the number of blue squares? (${i})`,
    groundTruth: String(i % 10),
    image: `images/s${step}-p${i}.png`,
    visualEntropy: 1 + (i % 17) / 10,
    confidence: -0.2 - (i % 13) / 10,
    perceptualBucket: i % 4 === 0 ? 'low' : i % 4 === 3 ? 'high' : 'mid',
    reasoningBin: i % 12,
    groupStd: std,
    perceptualPooledStd: 0.45,
    reasoningPooledStd: 0.43,
    weight: 1,
    excluded: false,
    rollouts: fixtureRollouts(rewards, (r, k) => `there are ${r === 1 ? i % 10 : (i + 1) % 10} things in total, answer ${k}`),
  };
}

/** The groups of one step, in prompt order. */
export function stepGroups(step: number): RolloutGroup[] {
  return Array.from({ length: PROMPTS }, (_, i) => paperGroup(step, i));
}

/** The metric names of a step (every metric of the table). */
export const METRIC_NAMES = Object.values(METRIC);

/** A step's metrics: every metric of the table, a smooth curve each. */
export function metricsAt(step: number): Record<string, number> {
  return Object.fromEntries(METRIC_NAMES.map((name, k) => [name, Math.sin(step / 30 + k) * (k + 1)]));
}

/** A w x h PNG of one colour (RGB, no filtering; grey by default, the size of the built-in suite's images). */
export function png(width: number, height: number, rgb: [number, number, number] = [120, 120, 120]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => rgb).flat())]);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(pixels)), chunk('IEND', Buffer.alloc(0))]);
}
