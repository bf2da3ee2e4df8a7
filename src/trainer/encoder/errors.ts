import { printable } from '../../core/printable.js';

/**
 * The vision encoder's one error type: a missing or mismatched model, a bad sidecar, or an input that is
 * not an image. Messages name the model path and what was expected versus found.
 */
export class EncoderError extends Error {
  /** The index of the image at fault in the batch given to `encode`, when one is. */
  readonly image?: number;

  constructor(message: string, image?: number) {
    // Paths and names in the message come from the user: shown with control characters escaped.
    super(printable(message));
    this.name = 'EncoderError';
    if (image !== undefined) this.image = image;
  }
}
