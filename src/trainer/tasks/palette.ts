/**
 * The fixed vocabulary of what a task image can contain: five object colours, three shapes and the
 * 8 x 8 grid of 12 px cells. The encoder's colour prototypes are built from these same constants
 * (docs/dev/trainer-contracts.md), so change them only together with the encoder.
 */

/** An RGB triple, 0..255 per channel. */
export type Rgb = readonly [number, number, number];

const RED: Rgb = [220, 40, 40];
const GREEN: Rgb = [40, 170, 60];
const BLUE: Rgb = [45, 85, 225];
const YELLOW: Rgb = [235, 205, 35];
const PURPLE: Rgb = [150, 60, 200];

export const COLOUR_NAMES = ['red', 'green', 'blue', 'yellow', 'purple'] as const;
export type ColourName = (typeof COLOUR_NAMES)[number];

/** Object colours by name, in COLOUR_NAMES order. */
export const PALETTE: Readonly<Record<ColourName, Rgb>> = { red: RED, green: GREEN, blue: BLUE, yellow: YELLOW, purple: PURPLE };

export const SHAPE_NAMES = ['circle', 'square', 'triangle'] as const;
export type ShapeName = (typeof SHAPE_NAMES)[number];

/** Images are IMAGE_SIZE x IMAGE_SIZE RGB. */
export const IMAGE_SIZE = 96;
/** Cells per side of the object grid (one encoder patch per cell). */
export const GRID_CELLS = 8;
/** Side of one grid cell in pixels (= the encoder's patch size). */
export const CELL_SIZE = IMAGE_SIZE / GRID_CELLS;

/** Rec. 601 luma of a colour, rounded: the grey a colour fades to when desaturated. */
function lumaOf(colour: Rgb): number {
  return Math.round((299 * colour[0] + 587 * colour[1] + 114 * colour[2]) / 1000);
}

/**
 * A colour moved toward its own grey: saturation 1 is the colour itself, 0 is pure grey.
 * Clutter uses saturation well below 1 so it can look like a palette colour without being one.
 */
export function desaturate(colour: Rgb, saturation: number): Rgb {
  const grey = lumaOf(colour);
  return [
    Math.round(grey + saturation * (colour[0] - grey)),
    Math.round(grey + saturation * (colour[1] - grey)),
    Math.round(grey + saturation * (colour[2] - grey)),
  ];
}
