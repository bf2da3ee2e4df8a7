/**
 * The built-in task suite: procedurally drawn scenes of coloured shapes with verifiable counting and
 * arithmetic questions, two independent difficulty knobs, a closed response vocabulary and the
 * 0.1 * format + 0.9 * accuracy reward. See README.md in this folder.
 */
export * from './palette.js';
export * from './types.js';
export * from './perceptual.js';
export { decoyClearance, decoyHues, placeObjects, renderScene, type ObjectPlacement, type RenderedScene } from './draw.js';
export { shapeContains } from './raster.js';
export * from './questions.js';
export * from './questionsV2.js';
export * from './vocab.js';
export * from './reward.js';
export * from './generate.js';
export * from './png.js';
