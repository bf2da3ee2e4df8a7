// Encodes two fixed images with the encoder at argv[2] in a child process (spawned by providers.test.ts), so the
// parent sees what the encoder's session creation writes to stderr under the DURIAN_ORT_PROVIDERS it is given.
// Prints one JSON line: { features: number[], provider, fallbackReason } or { error }.
import { loadEncoder } from '../../../src/trainer/encoder/index.js';
import { ortSessionOutcomes } from '../../../src/trainer/onnx/providers.js';

function image(seed: number) {
  const rgb = new Uint8Array(96 * 96 * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37 + seed * 101 + ((i / 3 / 96) | 0) * 13) % 256;
  return { width: 96, height: 96, rgb };
}

loadEncoder(process.argv[2]).then(
  async (encoder) => {
    const features = await encoder.encode([image(1), image(2)]);
    const outcome = ortSessionOutcomes().get('encoder');
    process.stdout.write(`${JSON.stringify({ features: Array.from(features), provider: outcome?.provider, fallbackReason: outcome?.fallbackReason })}\n`);
    await encoder.release();
  },
  (error: unknown) => process.stdout.write(`${JSON.stringify({ error: (error as Error).message })}\n`),
);
