/**
 * The default frozen vision encoder: a hand-designed (untrained) ONNX feature extractor for the built-in
 * counting tasks. `pixels` float32 [N, 3, 96, 96] in [0, 1] -> `patches` float32 [N, 64, 32]: 8 x 8 patches
 * of 12 x 12 px in row-major order, 32 features each (media/encoder.md explains every feature).
 *
 * Built by `scripts/build-encoder.ts` into media/encoder.onnx; same code, same bytes.
 */
import { OnnxGraphBuilder } from '../onnx/builder.js';
import { COLOUR_NAMES, PALETTE } from '../tasks/palette.js';
import type { EncoderMetadata } from './metadata.js';

/** Colour prototypes: the task palette (src/trainer/tasks/palette.ts), in its order. */
export const ENCODER_PALETTE = COLOUR_NAMES.map((name) => ({ name, rgb: PALETTE[name] }));

export const DESIGNED_ENCODER = {
  inputName: 'pixels',
  outputName: 'patches',
  imageSize: 96,
  patchSize: 12,
  gridSize: 8,
  patchCount: 64,
  featureDim: 32,
  /** Colour-membership temperature: exp(-||rgb - c||^2 / tau), rgb in [0, 1]. */
  colourTemperature: 0.05,
} as const;

/** Names of the 32 features, in output order. */
export const DESIGNED_FEATURE_NAMES: readonly string[] = [
  ...ENCODER_PALETTE.map((c) => `colour/${c.name}/fraction`),
  ...ENCODER_PALETTE.map((c) => `colour/${c.name}/peak`),
  'shape/fill',
  'shape/gradient_x',
  'shape/gradient_y',
  'shape/gradient_diagonal',
  'shape/gradient_antidiagonal',
  'shape/compactness',
  'shape/harmonic3',
  'shape/harmonic4',
  'shape/harmonic2',
  'shape/corner_mean',
  'shape/corner_peak',
  'shape/extent',
  'texture/luminance_mean',
  'texture/luminance_std',
  'texture/luminance_range',
  'texture/chroma',
  'texture/red_mean',
  'texture/green_mean',
  'texture/blue_mean',
  'texture/gradient_energy',
  'texture/laplacian_energy',
  'texture/gradient_anisotropy',
];

/**
 * Output scale per feature, chosen by design so each feature spans roughly [0, 1] on the built-in tasks
 * (and so the spectral entropy is not dominated by one large-valued feature).
 */
const FEATURE_SCALES: readonly number[] = [
  2, 2, 2, 2, 2, // colour fractions: an object covers ~10-60% of its patch
  1, 1, 1, 1, 1, // colour peaks: already in [0, 1]
  2, // fill
  4, 4, 4, 4, // oriented edge energies
  1, // compactness
  1, 1, 1, // harmonics: ratios in [0, 1]
  48, 8, // corner mean, corner peak
  2, // extent
  1, 4, 1, 2, 1, 1, 1, 4, 4, 1, // texture
];

/** Builds the encoder graph. Pure: returns the ONNX bytes. */
export function buildDesignedEncoder(): Uint8Array {
  const { imageSize: S, patchSize: p, gridSize, featureDim, colourTemperature: tau } = DESIGNED_ENCODER;
  const g = new OnnxGraphBuilder({ name: 'durian_designed_encoder', docString: 'Durian RL designed patch-feature encoder (see media/encoder.md).' });
  const x = g.input(DESIGNED_ENCODER.inputName, 'float32', ['N', 3, S, S]);

  const patchMean = (t: string) => g.op('AveragePool', [t], { kernel_shape: [p, p], strides: [p, p] });
  const patchMax = (t: string) => g.op('MaxPool', [t], { kernel_shape: [p, p], strides: [p, p] });
  const box3 = (t: string) => g.op('AveragePool', [t], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], count_include_pad: 0 });
  const scalar = (v: number) => g.constant([v], [], 'scalar');
  const mul = (a: string, b: string) => g.op('Mul', [a, b]);
  const add = (a: string, b: string) => g.op('Add', [a, b]);
  const sub = (a: string, b: string) => g.op('Sub', [a, b]);
  const div = (a: string, b: string) => g.op('Div', [a, b]);
  const sqrt = (a: string) => g.op('Sqrt', [g.op('Relu', [a])]);
  const channel = (t: string, from: number, to = from + 1) =>
    g.op('Slice', [t, g.int64Constant([from]), g.int64Constant([to]), g.int64Constant([1])]);

  // One MatMul projects every pixel on the 5 palette colours and the luminance weights (1 x 1 Convs with
  // 3 input channels are slow under ORT's NCHWc layout rewrite). Colour membership per pixel:
  // exp(-||x - c_k||^2 / tau) = exp((2 c_k.x - |c_k|^2 - |x|^2) / tau).
  const colours = ENCODER_PALETTE.map((c) => c.rgb.map((v) => v / 255));
  const projection = [...colours.flatMap((c) => c.map((v) => (2 * v) / tau)), 0.299, 0.587, 0.114];
  const flatPixels = g.op('Reshape', [x, g.int64Constant([0, 3, S * S])]);
  const projected = g.op('MatMul', [g.constant(projection, [6, 3], 'projection'), flatPixels]);
  const planes6 = g.op('Reshape', [projected, g.int64Constant([0, 6, S, S])]);
  const colourBias = colours.map((c) => -c.reduce((sum, v) => sum + v * v, 0) / tau);
  const squaredNorm = mul(g.op('ReduceSumSquare', [x], { axes: [1], keepdims: 1 }), scalar(1 / tau));
  const logits = sub(add(channel(planes6, 0, 5), g.constant(colourBias, [1, 5, 1, 1], 'colour_bias')), squaredNorm);
  const membership = g.op('Exp', [g.op('Min', [logits, scalar(0)])], undefined, 'colour_membership');
  const luminance = channel(planes6, 5);
  const colourFraction = patchMean(membership);
  // Peak: the best 2 x 2 block average of the patch (robust to single noisy pixels).
  const colourPeak = g.op('MaxPool', [g.op('AveragePool', [membership], { kernel_shape: [2, 2], strides: [2, 2] })], { kernel_shape: [p / 2, p / 2], strides: [p / 2, p / 2] });

  // Foreground mask = total palette membership (grey clutter and backgrounds stay near 0).
  const foreground = g.op('Clip', [g.op('ReduceSum', [membership, g.int64Constant([1])], { keepdims: 1 }), scalar(0), scalar(1)], undefined, 'foreground');

  // Derivative filters on [foreground, luminance], edge-padded so the image border is not an edge.
  // Per plane: d/dx, d/dy, diagonal, anti-diagonal (Sobel / 4) and a Laplacian.
  const sobelX = [-1, 0, 1, -2, 0, 2, -1, 0, 1].map((v) => v / 4);
  const sobelY = [-1, -2, -1, 0, 0, 0, 1, 2, 1].map((v) => v / 4);
  const sobelD = [-2, -1, 0, -1, 0, 1, 0, 1, 2].map((v) => v / 4);
  const sobelA = [0, -1, -2, 1, 0, -1, 2, 1, 0].map((v) => v / 4);
  const laplacian = [0, 1, 0, 1, -4, 1, 0, 1, 0];
  const bank = [sobelX, sobelY, sobelD, sobelA, laplacian];
  const planes = g.op('Concat', [foreground, luminance], { axis: 1 });
  const padded = g.op('Pad', [planes, g.int64Constant([0, 0, 1, 1, 0, 0, 1, 1])], { mode: 'edge' });
  const filtered = g.op('Conv', [padded, g.constant([...bank, ...bank].flat(), [10, 1, 3, 3], 'derivative_w')], { group: 2 });
  const fgGrad = channel(filtered, 0, 4);
  const fgX = channel(filtered, 0);
  const fgY = channel(filtered, 1);
  const lumX = channel(filtered, 5);
  const lumY = channel(filtered, 6);
  const lumLaplacian = channel(filtered, 9);

  // Shape evidence.
  const eps = scalar(1e-6);
  const fill = patchMean(foreground);
  const orientedEdges = patchMean(g.op('Abs', [fgGrad]));
  const fgX2 = mul(fgX, fgX);
  const fgY2 = mul(fgY, fgY);
  const fgXY = mul(fgX, fgY);
  const fgMag2 = add(fgX2, fgY2);
  const fgMag = sqrt(fgMag2);
  const perimeter = patchMean(fgMag);
  // Perimeter^2 / area: circle < square < triangle; the 0.02 keeps empty patches near 0.
  const compactness = div(mul(perimeter, perimeter), add(fill, scalar(0.02)));
  // Rotation-invariant orientation harmonics |sum g^n| / sum |g|^n of the complex gradient g = gx + i gy:
  // n = 3 peaks for triangles (three edge directions 120 degrees apart), n = 4 for squares, n = 2 for bars.
  const harmonic = (re: string, im: string, magN: string) => {
    const reMean = patchMean(re);
    const imMean = patchMean(im);
    return div(sqrt(add(mul(reMean, reMean), mul(imMean, imMean))), add(patchMean(magN), eps));
  };
  const three = scalar(3);
  const re3 = mul(fgX, sub(fgX2, mul(three, fgY2)));
  const im3 = mul(fgY, sub(mul(three, fgX2), fgY2));
  const re4 = add(sub(mul(fgX2, fgX2), mul(scalar(6), mul(fgX2, fgY2))), mul(fgY2, fgY2));
  const im4 = mul(mul(scalar(4), fgXY), sub(fgX2, fgY2));
  const harmonic3 = harmonic(re3, im3, mul(fgMag2, fgMag));
  const harmonic4 = harmonic(re4, im4, mul(fgMag2, fgMag2));
  const harmonic2 = harmonic(sub(fgX2, fgY2), mul(scalar(2), fgXY), fgMag2);
  // Harris corner response on a 3x3 window: det(J) - 0.05 tr(J)^2, positive part.
  const jxx = box3(fgX2);
  const jyy = box3(fgY2);
  const jxy = box3(fgXY);
  const trace = add(jxx, jyy);
  const harris = g.op('Relu', [sub(sub(mul(jxx, jyy), mul(jxy, jxy)), mul(scalar(0.05), mul(trace, trace)))]);
  const cornerMean = patchMean(harris);
  const cornerPeak = patchMax(harris);
  // Extent: radius of gyration of the foreground about its centroid (object size, bounded by the patch).
  const offsets = Array.from({ length: p }, (_, k) => (k - (p - 1) / 2) / p);
  const momentKernels: number[] = [];
  const addMomentKernel = (weight: (dy: number, dx: number) => number) => {
    for (const dy of offsets) for (const dx of offsets) momentKernels.push(weight(dy, dx) / (p * p));
  };
  addMomentKernel((_dy, dx) => dx);
  addMomentKernel((dy) => dy);
  addMomentKernel((_dy, dx) => dx * dx);
  addMomentKernel((dy) => dy * dy);
  const moments = g.op('Conv', [foreground, g.constant(momentKernels, [4, 1, p, p], 'moment_w')], { strides: [p, p] });
  const safeFill = add(fill, scalar(0.02));
  const centroid = div(channel(moments, 0, 2), safeFill);
  const secondMoment = div(g.op('ReduceSum', [channel(moments, 2, 4), g.int64Constant([1])], { keepdims: 1 }), safeFill);
  const centroidNorm = g.op('ReduceSum', [mul(centroid, centroid), g.int64Constant([1])], { keepdims: 1 });
  const extent = sqrt(sub(secondMoment, centroidNorm));

  // Generic texture and intensity statistics.
  const lumMean = patchMean(luminance);
  const lumStd = sqrt(sub(patchMean(mul(luminance, luminance)), mul(lumMean, lumMean)));
  const lumRange = add(patchMax(luminance), patchMax(g.op('Neg', [luminance])));
  const chroma = patchMean(sub(g.op('ReduceMax', [x], { axes: [1], keepdims: 1 }), g.op('ReduceMin', [x], { axes: [1], keepdims: 1 })));
  const rgbMean = patchMean(x);
  const lumX2 = mul(lumX, lumX);
  const lumY2 = mul(lumY, lumY);
  const lumMag2 = add(lumX2, lumY2);
  const gradientEnergy = patchMean(sqrt(lumMag2));
  const laplacianEnergy = patchMean(g.op('Abs', [lumLaplacian]));
  const anisotropy = harmonic(sub(lumX2, lumY2), mul(scalar(2), mul(lumX, lumY)), lumMag2);

  const stacked = g.op('Concat', [
    colourFraction, colourPeak,
    fill, orientedEdges, compactness, harmonic3, harmonic4, harmonic2, cornerMean, cornerPeak, extent,
    lumMean, lumStd, lumRange, chroma, rgbMean, gradientEnergy, laplacianEnergy, anisotropy,
  ], { axis: 1 });
  const scaled = mul(stacked, g.constant(FEATURE_SCALES, [1, featureDim, 1, 1], 'feature_scale'));
  const flat = g.op('Reshape', [scaled, g.int64Constant([0, featureDim, gridSize * gridSize])]);
  g.op('Transpose', [flat], { perm: [0, 2, 1] }, DESIGNED_ENCODER.outputName);
  g.output(DESIGNED_ENCODER.outputName, 'float32', ['N', gridSize * gridSize, featureDim]);
  return g.toBytes();
}

/** The sidecar metadata of the designed encoder (media/encoder.json). */
export function designedEncoderMetadata(sha256: string): EncoderMetadata {
  const { inputName, outputName, imageSize, patchCount, featureDim } = DESIGNED_ENCODER;
  return {
    format: 'durian-encoder/1',
    name: 'durian-designed-v1',
    description:
      'Frozen hand-designed patch-feature extractor for the built-in counting tasks: 8 x 8 patches of 12 x 12 px, ' +
      '32 features each (palette colour fractions and peaks, foreground shape evidence, texture statistics). See media/encoder.md.',
    input: {
      name: inputName, height: imageSize, width: imageSize, layout: 'NCHW', mean: [0, 0, 0], std: [1, 1, 1], batchSize: 16,
      shape: ['N', 3, imageSize, imageSize],
    },
    output: { name: outputName, layout: 'tokens', patches: patchCount, dims: featureDim, shape: ['N', patchCount, featureDim] },
    sha256,
    // Measured on 2 shared cores: one thread and batches of 16 beat ORT's defaults (threads spin-wait).
    threads: 1,
    featureNames: [...DESIGNED_FEATURE_NAMES],
  };
}
