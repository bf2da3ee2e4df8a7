/**
 * The trainer process. Forked by the extension it speaks over Node IPC; started by the CLI it reads
 * controls as JSON Lines on stdin and writes events as JSON Lines on stdout (logs go to stderr). Every
 * incoming message is validated; a bad one gets an `error` event and changes nothing. However it is started,
 * the trainer also reads controls appended to its run's inbox.jsonl at each step boundary (./inbox.ts), so a
 * headless run can be steered by any process that can append to a file. SIGTERM/SIGINT/SIGHUP
 * or a vanished parent stop it cleanly: the step finishes, a checkpoint is written, exit code 0. Over stdio
 * the parent is gone when stdin ends (the CLI was killed, even with SIGKILL) or stdout breaks (EPIPE).
 *
 * Exit codes: 0 done or stopped; 2 a user error (bad option, a run that exists / is not a run / is in use /
 * holds a symbolic link / has no intact checkpoint, a backend that cannot be used), reported as one
 * `error` event and no stack trace; 1 anything else: a run-folder failure (disk full, access denied) as its
 * one-line message, a bug with its stack (stderr and trainer.log).
 */
import { DurianInputError } from '../core/index.js';
import { BackendError } from './backend/index.js';
import { EVENT, LineDecoder, MAX_CONTROL_CHARS, type TrainerEvent, encodeLine } from '../protocol/index.js';
import { TRAIN_HELP, parseTrainInvocation } from './args.js';
import { FAULT_ENV, parseFaults } from './faults.js';
import { RunDirectoryError, isUserRunProblem } from './run/index.js';
import { Trainer } from './trainer.js';

const ipc = typeof process.send === 'function';

/** Set once the trainer exists: what to do when the host turns out to be gone. */
let onHostGone: () => void = () => undefined;
/** Stdout broke (the reader is gone): events are dropped from then on; trainer.log keeps the record. */
let stdoutBroken = false;

/** Errors that are about what the user asked for: one line, exit code 2. */
function isUserError(error: unknown): boolean {
  return error instanceof DurianInputError || error instanceof BackendError || isUserRunProblem(error);
}

function send(event: TrainerEvent): void {
  if (ipc) {
    // A host that died (extension host killed, no deactivate) can make a send fail before 'disconnect'
    // arrives: without a callback that EPIPE is thrown as an uncaught 'error' and the trainer dies without
    // its last checkpoint. With one, it means the same as 'disconnect': stop cleanly.
    if (process.connected) process.send?.(event, undefined, undefined, (error: Error | null) => {
      if (error) onHostGone();
    });
  } else if (!stdoutBroken) {
    process.stdout.write(encodeLine(event));
  }
}

async function main(): Promise<number> {
  if (!ipc) {
    // stdout carries only events: route stray library output to stderr.
    console.log = (...args: unknown[]) => process.stderr.write(`${args.map(String).join(' ')}\n`);
    console.info = console.log;
  }
  let invocation;
  let faults;
  try {
    invocation = parseTrainInvocation(process.argv.slice(2));
    faults = parseFaults(process.env[FAULT_ENV]);
  } catch (error) {
    send({ type: EVENT.error, message: (error as Error).message, where: error instanceof DurianInputError ? error.where : 'arguments', fatal: true });
    return 2;
  }
  if (invocation.help) {
    process.stderr.write(`${TRAIN_HELP}\n`);
    return 0;
  }

  const trainer = new Trainer({ ...invocation, emit: send, faults });
  if (ipc) {
    onHostGone = () => trainer.requestStop();
    process.on('message', (message) => trainer.receive(message));
    // The host is gone (window reloaded or closed, extension host crashed or killed): finish the step,
    // checkpoint and exit, so the trainer never outlives it. Its stdout/stderr pipes are closed too: a
    // write there must not kill the trainer on the way out (EPIPE); trainer.log keeps the record.
    process.on('disconnect', onHostGone);
    process.stdout.on('error', () => undefined);
    process.stderr.on('error', () => undefined);
  } else {
    const decoder = new LineDecoder({ maxLineChars: MAX_CONTROL_CHARS });
    process.stdin.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk)) {
        if (line.ok) trainer.receive(line.value);
        else send({ type: EVENT.error, message: `rejected control line ${line.line}: ${line.error}`, fatal: false });
      }
    });
    process.stdin.on('error', () => undefined);
    // The host is gone: stdin ends when the CLI exits or is killed (even with SIGKILL: the kernel closes
    // its end of the pipe), and stdout breaks when nobody reads it any more. Stop cleanly, as over IPC.
    process.stdin.on('end', () => trainer.requestStop());
    process.stdout.on('error', () => {
      stdoutBroken = true;
      trainer.requestStop();
    });
    process.stderr.on('error', () => undefined);
  }
  let interrupts = 0;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (++interrupts > 1) process.exit(130);
      trainer.requestStop();
    });
  }

  try {
    await trainer.start();
    await trainer.train();
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const where = error instanceof DurianInputError ? error.where : error instanceof RunDirectoryError ? error.file : undefined;
    trainer.markCrashed(message);
    send({ type: EVENT.error, message, ...(where ? { where } : {}), fatal: true });
    if (isUserError(error)) return 2;
    // A run-folder failure (a full disk, a denied write) says what and where in its message; a bug needs its stack.
    if (!(error instanceof RunDirectoryError)) {
      trainer.logError(error);
      process.stderr.write(`durian trainer: ${error instanceof Error && error.stack ? error.stack : message}\n`);
    }
    return 1;
  } finally {
    await trainer.dispose().catch(() => undefined);
  }
}

main().then((code) => {
  // Let IPC / stdout drain before leaving.
  const exit = () => process.exit(code);
  if (ipc) setTimeout(exit, 50);
  else process.stdout.write('', exit);
});
