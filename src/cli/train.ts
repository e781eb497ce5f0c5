// `tdmpc train key=value ...`: validates everything, then trains (src/trainer/run.ts).
// Ctrl-C (SIGINT), SIGTERM (a scheduler's preemption, `timeout`, `docker stop`) or SIGHUP (the
// terminal or ssh session closed) stops gracefully: the loop finishes its step (or stops inside its
// updates, e.g. the pretraining burst, recording those still owed), writes a checkpoint and exits
// 130 / 143 / 129; a second signal exits at once. So does standard output closing under the run
// (`| tee log` killed, `| head`): exit 141, as a process stopped by SIGPIPE.
import os from 'node:os';
import { runTraining } from '../trainer/run.js';

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
type StopSignal = keyof typeof SIGNAL_EXIT_CODES;
/**
 * A repeat within this window is the same stop delivered twice, not a second request: `timeout`
 * sends its signal to the command and again to the command's process group, and both arrive
 * together (queued while a step or a run of updates holds the event loop). Taken as "exit at
 * once", the duplicate killed the run before its checkpoint.
 */
const DUPLICATE_SIGNAL_MS = 1000;

export async function trainCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log('usage: tdmpc train key=value ...   (keys: see configs/default.yaml; e.g. task=cartpole-swingup algo=bmpc steps=100000 seed=1)');
    return 0;
  }
  let stoppedBy: StopSignal | 'EPIPE' | null = null;
  let stoppedAt = 0;
  const onSignal = (signal: StopSignal) => {
    if (stoppedBy) {
      if (performance.now() - stoppedAt < DUPLICATE_SIGNAL_MS) return;
      process.exit(SIGNAL_EXIT_CODES[signal]);
    }
    stoppedBy = signal;
    stoppedAt = performance.now();
    console.log(`\nstopping (${signal}): finishing this step (a running evaluation is cancelled) and writing a checkpoint (${signal === 'SIGINT' ? 'Ctrl-C again' : `another ${signal}`} to exit at once)`);
  };
  const handlers = (Object.keys(SIGNAL_EXIT_CODES) as StopSignal[]).map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  // The reader of our output went away (EPIPE), or the terminal did after a hang-up (EIO): writes
  // fail, and an unheard stream error ended the process at once, without a checkpoint. Stop as for
  // a signal; later write errors are heard here too, so they no longer end the process (the run's
  // files still record everything).
  const onOutputError = (err: NodeJS.ErrnoException) => {
    if (stoppedBy || (err.code !== 'EPIPE' && err.code !== 'EIO')) return;
    stoppedBy = err.code === 'EIO' ? 'SIGHUP' : 'EPIPE'; // EIO: the terminal hung up, its SIGHUP still on the way
    stoppedAt = performance.now();
    console.error('\nstopping (output closed): finishing this step and writing a checkpoint');
  };
  for (const stream of [process.stdout, process.stderr]) stream.on('error', onOutputError);
  try {
    await runTraining(args, { shouldStop: () => stoppedBy !== null });
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
  if (stoppedBy === 'SIGHUP') {
    // Checkpoint written: end as a hung-up process does. A normal exit restores the terminal's
    // modes first, and on a hung-up terminal Node aborts there (ResetStdio's assertion, SIGABRT).
    process.kill(process.pid, 'SIGHUP');
    await new Promise(() => {}); // the signal ends the process
  }
  return stoppedBy === 'EPIPE' ? 128 + os.constants.signals.SIGPIPE : stoppedBy ? SIGNAL_EXIT_CODES[stoppedBy] : 0;
}
