// Draws the extension's icons. Deterministic; run with `node scripts/make-icon.mjs`.
// - media/durian.svg (24 x 24, monochrome, currentColor): the activity bar, the Runs view and the panels'
//   tabs. A durian: an oval husk with 12 spikes, the seams of its lobes, and a stem (not a gear).
// - media/icon.png (128 x 128): the marketplace icon, a spiky green durian shell around a cream core.
import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';

const round = (n) => Number(n.toFixed(2));
/** A closed path around an ellipse with `spikes` points, the valleys `depth` of the radius inwards. */
function spikyOval(cx, cy, rx, ry, spikes, depth) {
  const points = [];
  for (let i = 0; i < spikes * 2; i++) {
    // Offset by one point, so the top is a valley the stem grows from.
    const angle = ((i + 1) / (spikes * 2)) * Math.PI * 2 - Math.PI / 2;
    const k = i % 2 === 0 ? 1 : 1 - depth;
    points.push(`${round(cx + Math.cos(angle) * rx * k)} ${round(cy + Math.sin(angle) * ry * k)}`);
  }
  return `M${points.join('L')}Z`;
}
const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.4" stroke-linejoin="round" stroke-linecap="round">
  <path d="${spikyOval(12, 14, 8.6, 8.8, 12, 0.22)}"/>
  <path d="M12 6.4C9.2 9 9.2 19 12 21.6M12 6.4c2.8 2.6 2.8 12.6 0 15.2"/>
  <path d="M12 5.2V2.6c0-.6.5-1.1 1.6-1.1"/>
</svg>
`;
writeFileSync(new URL('../media/durian.svg', import.meta.url), svg);
console.log('wrote media/durian.svg');

const size = 128;
const png = new PNG({ width: size, height: size });
for (let y = 0; y < size; y++) {
  for (let x = 0; x < size; x++) {
    const dx = x - size / 2 + 0.5;
    const dy = y - size / 2 + 0.5;
    const radius = Math.hypot(dx, dy);
    const angle = Math.atan2(dy, dx);
    const spikes = 50 + 6 * Math.abs(Math.cos(angle * 8));
    const i = (y * size + x) * 4;
    let rgba = [0, 0, 0, 0];
    if (radius < 30) rgba = [246, 226, 150, 255];
    else if (radius < spikes - 6) rgba = [104, 150, 52, 255];
    else if (radius < spikes) rgba = [70, 112, 34, 255];
    png.data.set(rgba, i);
  }
}
writeFileSync(new URL('../media/icon.png', import.meta.url), PNG.sync.write(png));
console.log('wrote media/icon.png');
