/**
 * The headless `durian` command. Subcommands share the trainer's and the maths' code; each prints
 * usage with --help and exits non-zero with a one-line reason on bad input.
 */
import { parseArgs } from 'node:util';
import { DurianInputError, ESTIMATORS, printableLines } from '../core/index.js';
import { openAdvantagesOutput, runAdvantages } from './advantages.js';
import { benchHelp, runBench } from './bench/index.js';
import { DEMO_HELP, runDemo } from './demo.js';
import { runExportTasks } from './exportTasks.js';
import { runProxy } from './proxy.js';
import { runScore } from './score.js';
import { runStudy } from './study/index.js';
import { runTrain } from './train.js';

const USAGE = `durian <command> [options]

Commands:
  train         Train the policy on the built-in tasks (progress bar; final line: validation accuracy: before -> after).
                  --config FILE  --estimator NAME  --steps N  --out DIR  --resume DIR  --backend NAME  (train --help)
  demo          The Durian maths on a generated batch: extreme advantages under each estimator.
                  --prompts N (128)  --group-size G (8)  --seed S (1)
  advantages    Advantages for JSON Lines batches (stdin by default), one JSON line out per line in.
                  --input FILE  --output FILE  --estimators (list the estimators and their options)
  bench         Every benchmark of the project as a table (+ JSON).
                  --suite NAME[,NAME]  --repeats N (50)  --json FILE (bench-results.json)  --quick
  score         Visual entropy and perceptual bucket (low/mid/high) of every row of a dataset (JSON, JSONL, Parquet).
                  DATASET  --encoder MODEL  --out FILE  --image-field F  --problem-field F  --answer-field F  (score --help)
  proxy         Is difficulty real for a policy? Accuracy by perceptual x reasoning level, entropy and confidence
                buckets, Appendix-B error shares, for a base policy or a run's base and final policy.
                  --run DIR | --checkpoint DIR  --policy KIND  --suite v1|v2  --n N (2000)  --out FILE  (proxy --help)
  study         A grid of real training runs (estimators x G x seeds, Durian's sensitivity) -> report.md, plots, results.json.
                  --config FILE  --estimators LIST  --seeds N  --group-sizes LIST  --steps N  --out DIR  (study --help)
  export-tasks  The built-in tasks: with their encoder features as JSON Lines + .npy for the PyTorch trainer (python/),
                or as an EasyR1-shaped Parquet dataset (--out FILE.parquet) for train --dataset.
                  --split train|validation  --n N  --seed S (1)  --suite v1|v2  --out DIR|FILE.parquet  (export-tasks --help)

Run 'durian <command> --help' for details.`;

const ADVANTAGES_HELP = `durian advantages [--input FILE] [--output FILE]

Reads JSON Lines, one batch per line:
  {"estimator": "durian", "options": {...}, "index": ["p0","p0",...], "scores": [...],
   "lengths": [...], "visualEntropy": [...], "logprob": [...], "accuracy": [...],
   "groupWeights": {"p0": 0.5}, "relabels": [{"sequence": 3, "score": 1}]}
Per-sequence arrays; lengths = valid response tokens (default 1); visualEntropy and logprob are
needed by durian only. Writes one line per batch: {"advantages": [...], ...} with the estimator's
explanation, or {"error": "line N: ..."}. Exits 1 if any line failed.

Options every estimator takes: band [low, high] (keep groups whose mean accuracy is in it).`;

function estimatorsHelp(): string {
  const lines: string[] = [];
  for (const estimator of Object.values(ESTIMATORS)) {
    lines.push(`${estimator.name}: ${estimator.summary}`, `  reference: ${estimator.reference}`);
    for (const [key, spec] of Object.entries(estimator.options as Record<string, { description: string; default: unknown }>)) {
      lines.push(`  ${key} (default ${JSON.stringify(spec.default)}): ${spec.description}`);
    }
  }
  return lines.join('\n');
}

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new UsageError(`--${name} must be a whole number >= 1, got ${JSON.stringify(value)}`);
  return parsed;
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const print = (line: string) => process.stdout.write(`${line}\n`);
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    print(USAGE);
    return command === undefined ? 1 : 0;
  }
  switch (command) {
    case 'train':
      return runTrain(rest, print);
    case 'demo': {
      const { values } = parseArgs({ args: rest, options: { prompts: { type: 'string' }, 'group-size': { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean' } } });
      if (values.help) return print(DEMO_HELP), 0;
      runDemo(
        { prompts: positiveInt(values.prompts, 'prompts', 128), groupSize: positiveInt(values['group-size'], 'group-size', 8), seed: positiveInt(values.seed, 'seed', 1) },
        print,
      );
      return 0;
    }
    case 'advantages': {
      const { values } = parseArgs({ args: rest, options: { input: { type: 'string' }, output: { type: 'string' }, estimators: { type: 'boolean' }, help: { type: 'boolean' } } });
      if (values.help) return print(ADVANTAGES_HELP), 0;
      if (values.estimators) return print(estimatorsHelp()), 0;
      const output = values.output ? openAdvantagesOutput(values.output) : process.stdout;
      const { lines, failed } = await runAdvantages(values.input, output);
      if (output !== process.stdout) await new Promise<void>((resolve) => (output as NodeJS.WritableStream).end(resolve));
      if (failed > 0) process.stderr.write(`durian advantages: ${failed} of ${lines} lines failed (see their "error" fields)\n`);
      return failed > 0 ? 1 : 0;
    }
    case 'bench': {
      const { values } = parseArgs({ args: rest, options: { suite: { type: 'string' }, repeats: { type: 'string' }, json: { type: 'string' }, quick: { type: 'boolean' }, help: { type: 'boolean' } } });
      if (values.help) return print(benchHelp()), 0;
      await runBench(
        { suites: values.suite?.split(',').map((s) => s.trim()), repeats: positiveInt(values.repeats, 'repeats', 50), jsonPath: values.json ?? 'bench-results.json', quick: values.quick === true },
        print,
      );
      return 0;
    }
    case 'score':
      return runScore(rest, print);
    case 'proxy':
      return runProxy(rest, print);
    case 'study':
      return runStudy(rest, print);
    case 'export-tasks':
      return runExportTasks(rest, print);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    // Messages quote user paths and values: control characters are shown escaped (line breaks kept), never sent to the terminal.
    process.stderr.write(`durian: ${printableLines(message)}\n`);
    const usage = error instanceof UsageError || error instanceof DurianInputError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.exitCode = usage ? 2 : 1;
  },
);
