/**
 * `durian train`: runs the trainer bundle as a child process speaking JSON Lines over stdio (the same
 * process and protocol the extension uses over IPC), shows a progress bar, and ends with a summary whose
 * last line reads `validation accuracy: 0.412 -> 0.637`. Ctrl+C sends `stop` (the step finishes and a
 * checkpoint is written); a second Ctrl+C kills the trainer.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { EVENT, LineDecoder, type TrainerEvent, encodeLine, parseEvent } from '../protocol/index.js';
import { TRAIN_HELP, parseTrainInvocation } from '../trainer/args.js';
import { ProgressBar, formatTable } from './progress.js';

export async function runTrain(argv: string[], print: (line: string) => void): Promise<number> {
  const invocation = parseTrainInvocation(argv);
  if (invocation.help) {
    print(TRAIN_HELP);
    return 0;
  }
  const trainerBundle = path.join(__dirname, 'trainer.js');
  const child = spawn(process.execPath, [trainerBundle, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
  const decoder = new LineDecoder<TrainerEvent>({ parse: parseEvent as never, maxLineChars: 64 << 20 });
  let progress: ProgressBar | null = null;
  let hello: Extract<TrainerEvent, { type: 'trainer/hello' }> | null = null;
  let done: Extract<TrainerEvent, { type: 'trainer/done' }> | null = null;
  let lastMetrics: Record<string, number> = {};
  let fatal: string | null = null;
  let firstStep = 0;
  let firstStepAt = 0;
  const validations: { step: number; accuracy: number }[] = [];
  const stderrTail: string[] = [];

  const handle = (event: TrainerEvent) => {
    switch (event.type) {
      case EVENT.hello:
        hello = event;
        print(`run ${event.runId} in ${event.runDir}`);
        print(`backend ${event.backend} (${event.device}); estimator ${String(event.config.estimator)}${event.resumedFromStep !== undefined ? `; resumed from step ${event.resumedFromStep}` : ''}`);
        break;
      case EVENT.log:
        if (event.level !== 'debug') process.stderr.write(`${progress ? '\n' : ''}${event.level}: ${event.message}\n`);
        break;
      case EVENT.validation:
        validations.push({ step: event.step, accuracy: event.accuracy });
        if (!progress) print(`validation accuracy at step ${event.step}: ${event.accuracy.toFixed(3)}`);
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
          reward: event.metrics['reward/mean'] ?? Number.NaN,
          acc: event.metrics['accuracy/mean'] ?? Number.NaN,
          'val acc': validations.length ? validations[validations.length - 1].accuracy : Number.NaN,
          'steps/s': seconds > 0 ? (event.step - firstStep) / seconds : 0,
        });
        break;
      }
      case EVENT.error:
        if (event.fatal) fatal = event.message;
        process.stderr.write(`${progress ? '\n' : ''}${event.fatal ? 'error' : 'warning'}: ${event.message}${event.where ? ` (at ${event.where})` : ''}\n`);
        break;
      case EVENT.done:
        done = event;
        break;
      default:
        break;
    }
  };

  child.stdout.on('data', (chunk: Buffer) => {
    for (const line of decoder.push(chunk)) {
      if (line.ok) handle(line.value);
      else process.stderr.write(`warning: unreadable trainer event on line ${line.line}: ${line.error}\n`);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderrTail.push(text);
    if (stderrTail.length > 50) stderrTail.shift();
    // tfjs prints a banner on the cpu backend; everything else is worth showing.
    if (!/Hi, looks like you are running TensorFlow\.js/.test(text)) process.stderr.write(text);
  });
  child.stdin.on('error', () => undefined);

  let interrupts = 0;
  const onInterrupt = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write('\nstopping after this step (Ctrl+C again to kill the trainer)...\n');
      child.stdin.write(encodeLine({ type: 'control/stop', controlId: 'cli-stop' }));
    } else {
      child.kill('SIGKILL');
    }
  };
  process.on('SIGINT', onInterrupt);

  const code: number = await new Promise((resolve) => child.on('close', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : 1))));
  process.off('SIGINT', onInterrupt);
  for (const line of decoder.end()) if (line.ok) handle(line.value);
  (progress as ProgressBar | null)?.finish();

  const finished = done as Extract<TrainerEvent, { type: 'trainer/done' }> | null;
  if (!finished) {
    print(`trainer exited with code ${code}${fatal ? `: ${fatal}` : ''}`);
    if (hello) print(`the run directory is intact; continue it with: durian train --resume ${(hello as { runDir: string }).runDir}`);
    return code === 0 ? 1 : code;
  }
  const rows: (string | number)[][] = [['metric', 'value']];
  for (const key of ['reward/mean', 'accuracy/mean', 'frac_reward_zero_std', 'critic/advantages/frac_abs_gt_2', 'critic/advantages_grpo/frac_abs_gt_2', 'actor/kl_loss', 'actor/entropy', 'perf/throughput']) {
    if (lastMetrics[key] !== undefined) rows.push([key, lastMetrics[key]]);
  }
  rows.push(['steps', finished.step], ['wall time (s)', finished.summary.wallSeconds ?? Number.NaN]);
  print('');
  print(formatTable(rows));
  print(`validation: ${validations.map((v) => `step ${v.step} ${v.accuracy.toFixed(3)}`).join(', ')}`);
  const before = finished.summary.validationAccuracyBefore;
  const after = finished.summary.validationAccuracyAfter;
  print(`run ${finished.reason} at step ${finished.step}${hello ? ` in ${(hello as { runDir: string }).runDir}` : ''}`);
  print(`validation accuracy: ${before === undefined ? '?' : before.toFixed(3)} -> ${after === undefined ? '?' : after.toFixed(3)}`);
  return code;
}
