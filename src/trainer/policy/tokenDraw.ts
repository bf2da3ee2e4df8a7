/**
 * Drawing one token from a row of logits, shared by every policy's sampler: softmax at a temperature in
 * float64, the drawn class (inverse CDF of u in [0, 1); the most likely class when u is null, the first one on
 * ties), its log-prob and the distribution's entropy.
 */
export function sampleToken(logits: Float32Array, offset: number, classes: number, temperature: number, probabilities: Float64Array, u: number | null): { choice: number; logprob: number; entropy: number } {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, logits[offset + c] / temperature);
  let total = 0;
  for (let c = 0; c < classes; c++) total += probabilities[c] = Math.exp(logits[offset + c] / temperature - max);
  const logTotal = Math.log(total) + max;
  let entropy = logTotal;
  let best = 0;
  for (let c = 0; c < classes; c++) {
    probabilities[c] /= total;
    entropy -= probabilities[c] * (logits[offset + c] / temperature);
    if (probabilities[c] > probabilities[best]) best = c;
  }
  let choice = best;
  if (u !== null) {
    // Falls back to the last class with mass if rounding leaves u above the sum.
    let cumulative = 0;
    for (let c = 0; c < classes; c++) {
      if (probabilities[c] <= 0) continue;
      choice = c;
      cumulative += probabilities[c];
      if (u < cumulative) break;
    }
  }
  return { choice, logprob: logits[offset + choice] / temperature - logTotal, entropy };
}
