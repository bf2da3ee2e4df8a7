// Loads an encoder in a child process (spawned by hostile.test.ts), so a read that blocks for ever is cut by
// the parent's timeout. argv: model path. Prints one JSON line: { loaded: true } or { error }.
import { loadEncoder } from '../../../src/trainer/encoder/index.js';

loadEncoder(process.argv[2]).then(
  async (encoder) => {
    process.stdout.write(`${JSON.stringify({ loaded: true })}\n`);
    await encoder.release();
  },
  (error: unknown) => process.stdout.write(`${JSON.stringify({ error: (error as Error).message })}\n`),
);
