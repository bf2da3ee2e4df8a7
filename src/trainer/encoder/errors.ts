/**
 * The vision encoder's one error type: a missing or mismatched model, a bad sidecar, or an input that is
 * not an image. Messages name the model path and what was expected versus found.
 */
export class EncoderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncoderError';
  }
}
