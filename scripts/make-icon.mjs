// Draws media/icon.png (128 x 128), the extension's marketplace icon: a spiky green durian shell
// around a cream core. Deterministic; run with `node scripts/make-icon.mjs`.
import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';

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
