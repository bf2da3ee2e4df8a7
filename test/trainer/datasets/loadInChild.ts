// Loads a dataset in a child process (spawned by hostile.test.ts), so a hang is cut by the parent's timeout
// and the peak memory of the load alone is measured. argv: file, then a JSON options object.
// Prints one JSON line: { rows, skipped: [{row, reason}], total, peakGrowthMB } or { error }.
import { openDataset, type DatasetOptions } from '../../../src/trainer/datasets/index.js';

async function main(): Promise<void> {
  const [file, optionsJson] = process.argv.slice(2);
  const options = JSON.parse(optionsJson ?? '{}') as DatasetOptions;
  const before = process.resourceUsage().maxRSS;
  try {
    const dataset = await openDataset(file, options);
    let rows = 0;
    const skipped: { row: number; reason: string }[] = [];
    for await (const item of dataset.items()) {
      if (item.kind === 'row') rows++;
      else skipped.push({ row: item.skipped.row, reason: item.skipped.reason });
    }
    const peakGrowthMB = (process.resourceUsage().maxRSS - before) / 1024;
    process.stdout.write(`${JSON.stringify({ rows, skipped, total: dataset.total, peakGrowthMB })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: (error as Error).message, peakGrowthMB: (process.resourceUsage().maxRSS - before) / 1024 })}\n`);
  }
}

void main();
