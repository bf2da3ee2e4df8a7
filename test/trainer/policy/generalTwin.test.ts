/**
 * The TypeScript general policy and its PyTorch twin (python/durian_rl/policy.py) load the same weights (the
 * checkpoint form: named little-endian float32 arrays) and score the same responses: teacher-forced log-probs
 * and entropies agree to 1e-4. Runs /usr/bin/python3 (or DURIAN_PYTHON_BIN) with numpy and torch; skipped
 * unless DURIAN_PYTHON=1, as scripts/test-python.sh is.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { selectBackend } from '../../../src/trainer/backend/index.js';
import { GENERAL_POLICY } from '../../../src/trainer/policy/general/index.js';
import type { PolicyShape } from '../../../src/trainer/policy/policy.js';
import { repeatPrompts } from '../../../src/trainer/policy/sampler.js';
import { SYNTHETIC_EOS, syntheticPrompts } from '../../../src/trainer/policy/synthetic.js';
import { packArrays } from '../../../src/trainer/policyIo.js';
import { Rng } from '../../../src/trainer/rng.js';

const PYTHON = process.env.DURIAN_PYTHON_BIN ?? '/usr/bin/python3';
const SCRIPT = path.resolve('bench/pytorch/general_policy_logprobs.py');
const skip = process.env.DURIAN_PYTHON === '1' ? false : 'set DURIAN_PYTHON=1 to compare with the PyTorch twin (needs /usr/bin/python3 with numpy and torch)';

/** Questions shorter than maxQuestionLength (the TypeScript side pads them; the twin gets them padded). */
const SHAPE: PolicyShape = { questionVocabSize: 5, responseVocabSize: 12, eosToken: SYNTHETIC_EOS, maxQuestionLength: 6, maxResponseLength: 5, patchCount: 16, patchDim: 8 };

before(async () => {
  if (!skip) await selectBackend({ backend: 'wasm' });
});

describe('general policy: TypeScript and the PyTorch twin', () => {
  it('score the same responses with the same weights alike (1e-4)', { skip }, async () => {
    const policy = await GENERAL_POLICY.create(SHAPE, { seed: 8, config: { d: 32, heads: 4, layers: 2 } });
    const directory = mkdtempSync(path.join(tmpdir(), 'durian-twin-'));
    try {
      // Move every weight well away from its initialisation so every layer matters to the output.
      const rng = new Rng(12);
      const weights = policy.getWeights();
      for (const values of Object.values(weights)) for (let i = 0; i < values.length; i++) values[i] += 0.3 * rng.normal();
      policy.setWeights(weights);
      const prompts = syntheticPrompts(3, 4, 6, SHAPE.patchCount, SHAPE.patchDim);
      const promptIndex = repeatPrompts(3, 3);
      const responses = Int32Array.from({ length: 9 * 5 }, (_, i) => (i % 5 === 4 || (i % 5 === 3 && i % 2 === 0) ? 0 : 1 + rng.int(SHAPE.responseVocabSize - 1)));
      const temperature = 1.2;
      const scored = policy.logProbs({ ...prompts, responses, responseLength: 5, promptIndex }, { temperature });

      const { bytes, index } = packArrays(weights);
      writeFileSync(path.join(directory, 'weights.bin'), bytes);
      writeFileSync(path.join(directory, 'policy.json'), JSON.stringify({ kind: 'general', config: policy.describe().config, weightsIndex: index }));
      writeFileSync(path.join(directory, 'patches.bin'), new Uint8Array(prompts.patches.buffer));
      const padded = new Int32Array(3 * SHAPE.maxQuestionLength);
      for (let p = 0; p < 3; p++) padded.set(prompts.questions.subarray(p * prompts.questionLength, (p + 1) * prompts.questionLength), p * SHAPE.maxQuestionLength);
      const batch = {
        prompts: 3, sequences: 9, questionLength: SHAPE.maxQuestionLength, responseLength: 5, temperature,
        promptIndex: Array.from(promptIndex), questions: Array.from(padded), responses: Array.from(responses),
      };
      writeFileSync(path.join(directory, 'batch.json'), JSON.stringify(batch));
      const run = spawnSync(PYTHON, [SCRIPT, directory], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(run.status, 0, `${PYTHON} ${SCRIPT} failed: ${run.stderr}`);
      const twin = JSON.parse(readFileSync(path.join(directory, 'twin.json'), 'utf8')) as { tokenLogprobs: number[]; entropies: number[] };
      assert.equal(twin.tokenLogprobs.length, scored.tokenLogprobs.length);
      let worstLogprob = 0;
      let worstEntropy = 0;
      for (let i = 0; i < twin.tokenLogprobs.length; i++) {
        worstLogprob = Math.max(worstLogprob, Math.abs(twin.tokenLogprobs[i] - scored.tokenLogprobs[i]));
        worstEntropy = Math.max(worstEntropy, Math.abs(twin.entropies[i] - scored.entropies[i]));
      }
      assert.ok(worstLogprob < 1e-4, `log-probs differ by ${worstLogprob}`);
      assert.ok(worstEntropy < 1e-4, `entropies differ by ${worstEntropy}`);
      assert.ok(scored.tokenLogprobs.some((lp) => lp < -1), 'the weights give a non-trivial distribution');
    } finally {
      rmSync(directory, { recursive: true, force: true });
      await policy.dispose();
    }
  });
});
