/**
 * Integer rasterisation on a raw RGB buffer: the three object shapes, plus the discs, boxes and
 * lines that clutter is made of. No anti-aliasing, on purpose: an object's pixels are exactly its
 * palette colour (before noise), which keeps the ground truth checkable pixel by pixel and the
 * images byte-identical across platforms (no floating point anywhere).
 */
import type { Rgb, ShapeName } from './palette.js';
import type { RgbImage } from './types.js';

/** Whether the pixel at offset (dx, dy) from a shape's centre belongs to the shape of half-size h. */
export function shapeContains(shape: ShapeName, dx: number, dy: number, halfSize: number): boolean {
  if (dx < -halfSize || dx > halfSize || dy < -halfSize || dy > halfSize) return false;
  switch (shape) {
    case 'circle':
      // r^2 + r rounds the disc's outline (a plain r^2 leaves single-pixel nubs at the poles).
      return dx * dx + dy * dy <= halfSize * halfSize + halfSize;
    case 'square': {
      // One pixel smaller than the bounding box so a square's area is close to the circle's.
      const side = halfSize - 1;
      return Math.abs(dx) <= side && Math.abs(dy) <= side;
    }
    case 'triangle': {
      // Upright isosceles: apex at the top row, base (full width) at the bottom row.
      const rowFromApex = dy + halfSize;
      return 2 * Math.abs(dx) <= rowFromApex;
    }
  }
}

export function createImage(width: number, height: number): RgbImage {
  return { width, height, rgb: new Uint8Array(width * height * 3) };
}

function setPixel(image: RgbImage, x: number, y: number, colour: Rgb): void {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  const offset = (y * image.width + x) * 3;
  image.rgb[offset] = colour[0];
  image.rgb[offset + 1] = colour[1];
  image.rgb[offset + 2] = colour[2];
}

export function fillDisc(image: RgbImage, centreX: number, centreY: number, radius: number, colour: Rgb): void {
  for (let dy = -radius; dy <= radius; dy++) {
    for (let dx = -radius; dx <= radius; dx++) {
      if (dx * dx + dy * dy <= radius * radius + radius) setPixel(image, centreX + dx, centreY + dy, colour);
    }
  }
}

export function fillBox(image: RgbImage, left: number, top: number, width: number, height: number, colour: Rgb): void {
  for (let y = top; y < top + height; y++) {
    for (let x = left; x < left + width; x++) setPixel(image, x, y, colour);
  }
}

/** Visits the pixels of a one-pixel line from (x0, y0) to (x1, y1), ends included (Bresenham). */
export function forEachLinePixel(x0: number, y0: number, x1: number, y1: number, visit: (x: number, y: number) => void): void {
  const stepX = x0 < x1 ? 1 : -1;
  const stepY = y0 < y1 ? 1 : -1;
  const spanX = Math.abs(x1 - x0);
  const spanY = -Math.abs(y1 - y0);
  let error = spanX + spanY;
  let x = x0;
  let y = y0;
  for (;;) {
    visit(x, y);
    if (x === x1 && y === y1) return;
    const doubled = 2 * error;
    if (doubled >= spanY) {
      error += spanY;
      x += stepX;
    }
    if (doubled <= spanX) {
      error += spanX;
      y += stepY;
    }
  }
}
