/**
 * `durian train`: runs the trainer bundle as a child process speaking JSON Lines over stdio (the same
 * process and protocol the extension uses over IPC), shows a progress bar, and ends with a summary whose
 * last line reads `validation accuracy: 0.412 -> 0.637`. Ctrl+C sends `stop` (the step finishes and a
 * checkpoint is written); a second Ctrl+C kills the trainer. So do a closed terminal (SIGHUP) and a reader
 * that went away (`durian train | head -2`: EPIPE), quietly. A user error found by the trainer (the run
 * exists, is not a run, is in use, ...; its exit code 2) is one line, `durian: <reason>`, exit code 2.
 * The run stays steerable while it trains: controls appended to `<run>/inbox.jsonl` (schemas/README.md) are
 * applied at the next step boundary; each applied one is printed, each refused one is a warning.
 *
 * `startTrainerProcess` is the spawning and event decoding on its own, shared with `durian study`.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import { EVENT, LineDecoder, METRIC, type TrainerEvent, encodeLine, parseEvent } from '../protocol/index.js';
import { DurianInputError } from '../core/index.js';
import { TRAIN_HELP, parseTrainInvocation } from '../trainer/args.js';
import { ProgressBar, formatTable } from './progress.js';

export type HelloEvent = Extract<TrainerEvent, { type: 'trainer/hello' }>;
export type DoneEvent = Extract<TrainerEvent, { type: 'trainer/done' }>;

export interface TrainerProcessOptions {
  /** Called for every valid event the trainer writes, in order. */
  onEvent?: (event: TrainerEvent) => void;
  /** An unreadable event line (the trainer's stdout carries only events). */
  onBadLine?: (line: number, error: string) => void;
  /** The trainer's stderr (tfjs's cpu banner left out). */
  onStderr?: (text: string) => void;
  /** Environment of the trainer (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

export interface TrainerProcessResult {
  /** Exit code (128 when killed by a signal). */
  code: number;
  hello: HelloEvent | null;
  done: DoneEvent | null;
  /** Message of the last fatal error event. */
  fatal: string | null;
  /** The last ~50 chunks of stderr. */
  stderrTail: string;
}

export interface TrainerProcess {
  child: ChildProcessWithoutNullStreams;
  /** Asks the trainer to stop after the current step (it writes a checkpoint and a done event). */
  stop(): void;
  kill(): void;
  /** Resolves when the process has exited and its output is read. */
  exit: Promise<TrainerProcessResult>;
}

/** The trainer bundle next to the CLI bundle (dist/trainer.js). */
export function trainerBundlePath(): string {
  return path.join(__dirname, 'trainer.js');
}

/** Starts `dist/trainer.js` with `argv` (the `durian train` options), decoding its JSON Lines events. */
export function startTrainerProcess(argv: string[], options: TrainerProcessOptions = {}): TrainerProcess {
  const child = spawn(process.execPath, [trainerBundlePath(), ...argv], { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
  const decoder = new LineDecoder<TrainerEvent>({ parse: parseEvent as never, maxLineChars: 64 << 20 });
  let hello: HelloEvent | null = null;
  let done: DoneEvent | null = null;
  let fatal: string | null = null;
  const stderrTail: string[] = [];
  const handle = (event: TrainerEvent) => {
    if (event.type === EVENT.hello) hello = event;
    else if (event.type === EVENT.done) done = event;
    else if (event.type === EVENT.error && event.fatal) fatal = event.message;
    options.onEvent?.(event);
  };
  child.stdout.on('data', (chunk: Buffer) => {
    for (const line of decoder.push(chunk)) {
      if (line.ok) handle(line.value);
      else options.onBadLine?.(line.line, line.error);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderrTail.push(text);
    if (stderrTail.length > 50) stderrTail.shift();
    // tfjs prints a banner on the cpu backend; everything else is worth showing.
    if (!/Hi, looks like you are running TensorFlow\.js/.test(text)) options.onStderr?.(text);
  });
  child.stdin.on('error', () => undefined);
  const exit = new Promise<TrainerProcessResult>((resolve) =>
    child.on('close', (exitCode, signal) => {
      for (const line of decoder.end()) if (line.ok) handle(line.value);
      resolve({ code: exitCode ?? (signal ? 128 : 1), hello, done, fatal, stderrTail: stderrTail.join('') });
    }),
  );
  return {
    child,
    stop: () => {
      if (child.stdin.writable) child.stdin.write(encodeLine({ type: 'control/stop', controlId: 'cli-stop' }));
    },
    kill: () => {
      child.kill('SIGKILL');
    },
    exit,
  };
}

export async function runTrain(argv: string[], print: (line: string) => void): Promise<number> {
  const invocation = parseTrainInvocation(argv);
  if (invocation.help) {
    print(TRAIN_HELP);
    return 0;
  }
  let progress: ProgressBar | null = null;
  let lastMetrics: Record<string, number> = {};
  let firstStep = 0;
  let firstStepAt = 0;
  const validations: { step: number; accuracy: number }[] = [];
  // The terminal closed or the reader of our output went away: stop the trainer cleanly, print nothing more.
  let outputGone = false;
  let stopTrainer: () => void = () => undefined;
  const onOutputGone = () => {
    if (outputGone) return;
    outputGone = true;
    stopTrainer();
  };
  const say = (line: string) => {
    if (!outputGone) print(line);
  };
  const warn = (text: string) => {
    if (!outputGone) process.stderr.write(text);
  };
  process.stdout.on('error', onOutputGone);
  process.stderr.on('error', onOutputGone);
  process.on('SIGHUP', onOutputGone);

  const handle = (event: TrainerEvent) => {
    switch (event.type) {
      case EVENT.hello:
        say(`run ${event.runId} in ${event.runDir}`);
        say(`backend ${event.backend} (${event.device}); estimator ${String(event.config.estimator)}; policy ${String(event.config.policy)}${event.resumedFromStep !== undefined ? `; resumed from step ${event.resumedFromStep}` : ''}`);
        say(`steer it from anywhere: append controls to ${path.join(event.runDir, 'inbox.jsonl')} (one JSON line each, e.g. {"type":"control/pause","controlId":"p-1"})`);
        break;
      case EVENT.applied:
        warn(`${progress ? '\n' : ''}applied ${event.kind} (${event.controlId}) from step ${event.step}\n`);
        break;
      case EVENT.log:
        if (event.level !== 'debug') warn(`${progress ? '\n' : ''}${event.level}: ${event.message}\n`);
        break;
      case EVENT.validation:
        validations.push({ step: event.step, accuracy: event.accuracy });
        if (!progress) say(`validation accuracy at step ${event.step}: ${event.accuracy.toFixed(3)}`);
        break;
      case EVENT.step: {
        lastMetrics = event.metrics;
        if (!progress) {
          progress = new ProgressBar({ total: event.totalSteps, label: 'train' });
          firstStep = event.step - 1;
          firstStepAt = Date.now();
        }
        const seconds = (Date.now() - firstStepAt) / 1000;
        progress.update(event.step, {
          reward: event.metrics[METRIC.rewardMean] ?? Number.NaN,
          acc: event.metrics[METRIC.accuracyMean] ?? Number.NaN,
          'val acc': validations.length ? validations[validations.length - 1].accuracy : Number.NaN,
          'steps/s': seconds > 0 ? (event.step - firstStep) / seconds : 0,
        });
        break;
      }
      case EVENT.error:
        // A fatal error is reported once, when the trainer has exited (below).
        if (!event.fatal) warn(`${progress ? '\n' : ''}warning: ${event.message}${event.where ? ` (at ${event.where})` : ''}\n`);
        break;
      default:
        break;
    }
  };

  const trainer = startTrainerProcess(argv, {
    onEvent: handle,
    onBadLine: (line, error) => warn(`warning: unreadable trainer event on line ${line}: ${error}\n`),
    onStderr: warn,
  });
  stopTrainer = () => trainer.stop();

  let interrupts = 0;
  const onInterrupt = () => {
    interrupts++;
    if (interrupts === 1) {
      warn('\nstopping after this step (Ctrl+C again to kill the trainer)...\n');
      trainer.stop();
    } else {
      trainer.kill();
    }
  };
  process.on('SIGINT', onInterrupt);

  const { code, hello, done: finished, fatal } = await trainer.exit;
  process.off('SIGINT', onInterrupt);
  process.off('SIGHUP', onOutputGone);
  (progress as ProgressBar | null)?.stop(); // where the run ended: a stopped run never shows total/total

  if (!finished) {
    // Exit code 2: the trainer refused what was asked (it wrote nothing): one line, as for any usage error.
    if (code === 2 && fatal) throw new DurianInputError('', fatal);
    warn(`error: trainer exited with code ${code}${fatal ? `: ${fatal}` : ''}\n`);
    if (hello) warn(`the run directory is intact; continue it with: durian train --resume ${hello.runDir}\n`);
    return code === 0 ? 1 : code;
  }
  if (outputGone) return code;
  const rows: (string | number)[][] = [['metric', 'value']];
  const summary = [METRIC.rewardMean, METRIC.accuracyMean, METRIC.fracRewardZeroStd, METRIC.advantagesFracExtreme, METRIC.advantagesGrpoFracExtreme, METRIC.klLoss, METRIC.entropy, METRIC.throughput];
  for (const key of summary) {
    if (lastMetrics[key] !== undefined) rows.push([key, lastMetrics[key]]);
  }
  rows.push(['steps', finished.step], ['wall time (s)', finished.summary.wallSeconds ?? Number.NaN]);
  say('');
  say(formatTable(rows));
  say(`validation: ${validations.map((v) => `step ${v.step} ${v.accuracy.toFixed(3)}`).join(', ')}`);
  const before = finished.summary.validationAccuracyBefore;
  const after = finished.summary.validationAccuracyAfter;
  say(`run ${finished.reason} at step ${finished.step}${hello ? ` in ${hello.runDir}` : ''}`);
  say(`validation accuracy: ${before === undefined ? '?' : before.toFixed(3)} -> ${after === undefined ? '?' : after.toFixed(3)}`);
  return code;
}
