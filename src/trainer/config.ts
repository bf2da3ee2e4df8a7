/**
 * The training configuration: every hyper-parameter in one typed object with a comment on its default
 * (CleanRL style). Names, ranges and defaults come from the settings table (src/protocol/settings.ts;
 * test/trainer/config.test.ts checks that both list the same fields); the config is validated before
 * training starts so that a bad value fails with the field and the allowed range
 * (`config.lr: must be > 0 and <= 1, got -1`), never mid-run.
 */
import { type BackendName, type PolicyKind, type SessionSettings, type SuiteChoice, parseSessionSettings, sessionNotes } from '../protocol/index.js';

export interface TrainConfig {
  /** Seed of everything random: task sampling, initial weights, rollouts. */
  seed: number;
  /**
   * Total RL steps (one batch of prompts x rollouts and one update each). The default session (250 steps of
   * 128 prompts x 8, each as much update work as 8 steps of the earlier 16-prompt session, plus a base-policy
   * warm-up of ~20 s on a fresh machine) is sized to the earlier 2000-step session's time on 2 CPU cores
   * (docs/measurements-regime.md).
   */
  steps: number;
  /**
   * Prompts per step (B): the rollout batch the advantages are computed on. 128 (the paper: 512) so that
   * Durian's perceptual buckets hold >= 32 prompts and its 12 reasoning bins >= 8 each; the update then
   * takes it in mini-batches (`miniBatchSize`).
   */
  batchSize: number;
  /** Rollouts per prompt (G). */
  groupSize: number;
  /** Advantage estimator from src/core (durian, grpo, dr_grpo, rloo, batch_std). */
  estimator: string;
  /** The estimator's own options (e.g. durian weights, reasoningBins) and `band`. */
  estimatorOptions: Record<string, unknown>;
  /** Policy objective: GRPO (symmetric clip, KL k3 to the reference, sequence-mean loss) or DAPO (clip-higher, token-mean, dynamic sampling). */
  algorithm: 'grpo' | 'dapo';
  /**
   * Adam learning rate of the RL updates (peak of the schedule). Measured in the earlier 16-prompt session on seed 1 over 1000 steps: 3e-4 is
   * too slow (+7 points), 1e-3 gains +9 to +12, 2e-3 and 3e-3 drift from the base (k3 KL ~0.6) and gain nothing.
   */
  lr: number;
  /**
   * Learning-rate schedule over the run's steps: 'cosine' decays lr from its value to lr * minLrRatio by the
   * last step (the policy settles instead of wandering at full step size when validation is read);
   * 'constant' keeps it. A live lr change from the panel sets the peak the schedule multiplies. The schedule
   * runs over `steps`: a stopped run resumes on the same curve, while extending a run (`--resume DIR --steps N`
   * with a larger N) stretches the curve from the resumed step on.
   */
  lrSchedule: 'constant' | 'cosine';
  /** Final lr as a fraction of lr under the cosine schedule. */
  minLrRatio: number;
  /**
   * Linear lr warm-up over the first N steps (0: none). A fresh Adam's first steps are about lr * sign(gradient)
   * for every weight (k3 KL to the base ~0.2 within 4 steps at 1e-3); a 100-step warm-up did not help reliably
   * (seed 1 +4.9 instead of +12.5, seed 3 +2.5 instead of +0.0), so it is off by default.
   */
  lrWarmupSteps: number;
  /** KL coefficient beta (k3 estimator, to the base policy). */
  klBeta: number;
  /** PPO ratio clip: 1 - clipLow .. 1 + clipHigh (GRPO: equal; DAPO: clip-higher 0.2 / 0.28). */
  clipLow: number;
  clipHigh: number;
  /** Sampling temperature of rollouts. */
  temperature: number;
  /** Optimisation passes over each batch (PPO epochs). */
  ppoEpochs: number;
  /**
   * Prompts per mini-batch of the update (each epoch: the kept prompt groups shuffled, then ceil(prompts /
   * miniBatchSize) optimiser steps); 0, or more than batchSize = the whole batch. 16 (8 mini-batches of the
   * default 128 prompts) keeps the earlier session's optimiser steps: 16 prompts x 8 rollouts each.
   */
  miniBatchSize: number;
  /** Global gradient-norm clip. */
  maxGradNorm: number;
  /** Validate on the held-out set every N steps (and at the start and end). */
  validationEvery: number;
  /** Held-out validation prompts. */
  validationSize: number;
  /** Training prompts in the pool the batches are drawn from (16384: the default session's 32,000 prompts see each about twice). */
  trainSize: number;
  /** Checkpoint every N steps (and at the end / on stop). */
  checkpointEvery: number;
  /** Checkpoints kept on disk. */
  keepCheckpoints: number;
  /**
   * Write every rollout group of a step to rollouts/step-N.jsonl, and its images to images/ (off: neither is
   * written, e.g. for `durian study`'s many runs; live panels then show the groups without their images).
   */
  writeRollouts: boolean;
  /**
   * Keep the rollout groups of every N-th step on disk (rollouts/step-N.jsonl and their images), plus the
   * run's last step and any step intervened on; the other steps stream live only (run/retention.ts). 1: all.
   */
  rolloutsEvery: number;
  /** tfjs backend: auto picks tfjs-node-gpu, tfjs-node, wasm, cpu (first that loads and passes a self-check). */
  backend: 'auto' | BackendName;
  /** ONNX vision encoder; empty = the bundled media/encoder.onnx. */
  encoderPath: string;
  /** Supervised warm-up steps that make the base policy (cached by its settings). */
  warmupSteps: number;
  /**
   * The policy's kind (src/trainer/policy/kinds.ts): 'counting', the hand-wired model that knows the
   * built-in suite, or 'general'. A run keeps its kind: a resume refuses a checkpoint of another kind.
   */
  policy: PolicyKind;
  /** The built-in task suite's version (a resumed run keeps its own). */
  suite: SuiteChoice;
}

/**
 * Validates a raw config (from a file, the CLI or the extension) against the settings table; fills
 * defaults. Throws DurianInputError naming the field and the allowed range.
 */
export function parseTrainConfig(raw: unknown): TrainConfig {
  return parseSessionSettings(raw, 'config') as SessionSettings & TrainConfig;
}

/** What the trainer applies differently from the config (e.g. Durian's capped bins), to log at start. */
export function trainConfigNotes(config: TrainConfig): string[] {
  return sessionNotes(config as unknown as SessionSettings);
}
