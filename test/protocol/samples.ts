/** One valid sample of every event and control, shared by the protocol tests. */
import type { Control, ControlKind, EventKind, RolloutGroup, TrainerEvent } from '../../src/protocol/index.js';
import { PROTOCOL_VERSION } from '../../src/protocol/index.js';

export function sampleGroup(promptId = 'p-000001'): RolloutGroup {
  return {
    promptId,
    question: 'How many red circles are there?',
    groundTruth: '3',
    image: `images/${promptId}.png`,
    visualEntropy: 2.31,
    confidence: -0.42,
    perceptualBucket: 'mid',
    reasoningBin: 5,
    groupStd: 0.4629,
    perceptualPooledStd: 0.45,
    reasoningPooledStd: 0.5,
    weight: 1,
    excluded: false,
    rollouts: [
      {
        response: '<answer>3</answer>',
        tokens: [5, 17, 3, 2],
        reward: 1,
        format: 1,
        accuracy: 1,
        meanLogprob: -0.31,
        advantage: 1.2,
        advantageGrpo: 1.06,
        components: { grpo: 1.06, perceptual: 1.1, reasoning: 1.25 },
      },
      {
        response: 'four',
        reward: 0,
        format: 0,
        accuracy: 0,
        meanLogprob: -0.9,
        advantage: -0.4,
        advantageGrpo: -0.35,
        relabeled: true,
      },
    ],
  };
}

export const SAMPLE_EVENTS: { [K in EventKind]: Extract<TrainerEvent, { type: `trainer/${K}` }> } = {
  hello: {
    type: 'trainer/hello',
    protocolVersion: PROTOCOL_VERSION,
    runId: 'run-2026-05-01',
    runDir: '/home/user/runs/run-2026-05-01',
    backend: 'tfjs-node',
    device: 'CPU (2 cores)',
    config: { estimator: 'durian', lr: 1e-3, durian: { weights: [0.1, 0.2, 0.7] }, tags: ['a', null, true] },
    resumedFromStep: 10,
  },
  step: {
    type: 'trainer/step',
    step: 11,
    totalSteps: 200,
    metrics: { 'critic/advantages/mean': 0, 'actor/pg_loss': -0.013, frac_reward_zero_std: 0.375 },
    elapsedMs: 1834.5,
  },
  groups: { type: 'trainer/groups', step: 11, estimator: 'durian', groups: [sampleGroup('p-1'), sampleGroup('p-2')] },
  validation: { type: 'trainer/validation', step: 20, accuracy: 0.62, reward: 0.65, perLevel: { easy: 0.9, hard: 0.31 } },
  applied: { type: 'trainer/applied', controlId: 'ctl-7', kind: 'setConfig', step: 12 },
  checkpoint: { type: 'trainer/checkpoint', step: 20, path: 'checkpoints/step-000020' },
  error: { type: 'trainer/error', message: 'lr must be > 0', where: 'setConfig.changes.lr', fatal: false, controlId: 'ctl-8' },
  done: { type: 'trainer/done', step: 200, reason: 'completed', summary: { 'val/accuracy': 0.71, wallSeconds: 812 } },
  log: { type: 'trainer/log', level: 'info', message: 'backend: tfjs-node' },
  paused: { type: 'trainer/paused', step: 13 },
  resumed: { type: 'trainer/resumed', step: 13 },
};

export const SAMPLE_CONTROLS: { [K in ControlKind]: Extract<Control, { type: `control/${K}` }> } = {
  pause: { type: 'control/pause', controlId: 'ctl-1' },
  resume: { type: 'control/resume', controlId: 'ctl-2' },
  stop: { type: 'control/stop', controlId: 'ctl-3' },
  setConfig: {
    type: 'control/setConfig',
    controlId: 'ctl-4',
    changes: {
      estimator: 'durian',
      durianWeights: [0.6, 0.2, 0.2],
      reasoningBins: 16,
      minPromptsPerBin: 2,
      eps: 1e-6,
      poolZeroVariance: false,
      lr: 5e-4,
      klBeta: 0.04,
      clipLow: 0.2,
      clipHigh: 0.28,
      temperature: 1,
      groupSize: 8,
      batchSize: 32,
    },
  },
  setGroupWeight: { type: 'control/setGroupWeight', controlId: 'ctl-5', promptId: 'p-1', weight: 0.5 },
  relabel: { type: 'control/relabel', controlId: 'ctl-6', step: 11, promptId: 'p-1', rollout: 1, reward: 1 },
  excludePrompt: { type: 'control/excludePrompt', controlId: 'ctl-7', promptId: 'p-2' },
  undo: { type: 'control/undo', controlId: 'ctl-8', targetControlId: 'ctl-5' },
};
