/** Text for the header and the hover legend: durations and metric values. */

export { formatDuration } from '../../src/protocol/index.js';

/** Four significant digits, exponent form for very large or small magnitudes; `—` when missing. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}
