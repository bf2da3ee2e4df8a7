// A tiny local image synthesiser for the encoder tests: coloured circles, squares and triangles
// (anti-aliased by 4 x 4 supersampling) on plain, textured, cluttered or noisy 96 x 96 backgrounds.
export type ShapeKind = 'circle' | 'square' | 'triangle';

export interface DrawnShape {
  kind: ShapeKind;
  /** Centre in pixels. */
  cx: number;
  cy: number;
  /** Size in pixels (diameter / side). */
  size: number;
  rgb: readonly [number, number, number] | readonly number[];
  /** Rotation in radians (default 0: axis-aligned square, upright triangle). */
  angle?: number;
}

export interface Background {
  kind: 'plain' | 'texture' | 'clutter' | 'noise';
  /** Base grey level 0-255 (default 235). */
  level?: number;
  seed?: number;
  /** Noise / texture amplitude 0-255 (default 30). */
  amplitude?: number;
}

export interface RgbImage {
  width: number;
  height: number;
  channels: 3;
  data: Uint8Array;
}

export function makeRandom(seed: number): () => number {
  let state = (seed * 2654435761) >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

function inside(shape: DrawnShape, x: number, y: number): boolean {
  const angle = shape.angle ?? 0;
  const dx = x - shape.cx;
  const dy = y - shape.cy;
  const u = Math.cos(angle) * dx + Math.sin(angle) * dy;
  const v = -Math.sin(angle) * dx + Math.cos(angle) * dy;
  const r = shape.size / 2;
  if (shape.kind === 'circle') return u * u + v * v <= r * r;
  if (shape.kind === 'square') return Math.abs(u) <= r && Math.abs(v) <= r;
  // Equilateral triangle of side `size`, apex up, centred on its bounding box.
  const h = (shape.size * Math.sqrt(3)) / 2;
  const top = -h / 2;
  if (v < top || v > h / 2) return false;
  return Math.abs(u) <= ((v - top) / h) * r;
}

export function drawImage(shapes: readonly DrawnShape[], background: Background = { kind: 'plain' }, size = 96): RgbImage {
  const random = makeRandom(background.seed ?? 1);
  const level = background.level ?? 235;
  const amplitude = background.amplitude ?? 30;
  const data = new Uint8Array(size * size * 3);
  const base = new Float32Array(size * size * 3).fill(level);
  if (background.kind === 'texture') {
    const fx = 0.2 + random() * 0.3;
    const fy = 0.2 + random() * 0.3;
    const tint = [random() * 20 - 10, random() * 20 - 10, random() * 20 - 10];
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const t = amplitude * 0.5 * (Math.sin(x * fx) + Math.sin(y * fy + x * 0.1));
        for (let c = 0; c < 3; c++) base[(y * size + x) * 3 + c] += t + tint[c];
      }
    }
  } else if (background.kind === 'clutter') {
    for (let line = 0; line < 12; line++) {
      const grey = level - 40 - random() * 80;
      const x0 = random() * size;
      const y0 = random() * size;
      const angle = random() * Math.PI;
      for (let t = 0; t < 20; t += 0.5) {
        const x = Math.round(x0 + Math.cos(angle) * t);
        const y = Math.round(y0 + Math.sin(angle) * t);
        if (x >= 0 && y >= 0 && x < size && y < size) for (let c = 0; c < 3; c++) base[(y * size + x) * 3 + c] = grey;
      }
    }
  }
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const pixel = [base[(y * size + x) * 3], base[(y * size + x) * 3 + 1], base[(y * size + x) * 3 + 2]];
      for (const shape of shapes) {
        if (Math.abs(x + 0.5 - shape.cx) > shape.size || Math.abs(y + 0.5 - shape.cy) > shape.size) continue;
        let hits = 0;
        for (let sy = 0; sy < 4; sy++) for (let sx = 0; sx < 4; sx++) if (inside(shape, x + (sx + 0.5) / 4, y + (sy + 0.5) / 4)) hits++;
        const alpha = hits / 16;
        for (let c = 0; c < 3; c++) pixel[c] = pixel[c] * (1 - alpha) + shape.rgb[c] * alpha;
      }
      for (let c = 0; c < 3; c++) {
        const noise = background.kind === 'noise' ? (random() + random() + random() - 1.5) * amplitude : 0;
        data[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(pixel[c] + noise)));
      }
    }
  }
  return { width: size, height: size, channels: 3, data };
}

/** Float32 NCHW [1, 3, H, W] in [0, 1] from an RGB image. */
export function toPixels(image: RgbImage): Float32Array {
  const { width, height, data } = image;
  const out = new Float32Array(3 * width * height);
  for (let k = 0; k < width * height; k++) for (let c = 0; c < 3; c++) out[c * width * height + k] = data[k * 3 + c] / 255;
  return out;
}
