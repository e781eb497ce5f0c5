// `tdmpc train key=value ...`: validates everything, then trains (src/trainer/run.ts).
// Ctrl-C (SIGINT) or SIGTERM (a scheduler's preemption, `timeout`, `docker stop`) stops
// gracefully: the loop finishes its step (or stops inside its updates, e.g. the pretraining burst,
// recording those still owed), writes a checkpoint and exits 130 / 143; a second signal exits at once.
import { runTraining } from '../trainer/run.js';

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
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
  let stoppedBy: StopSignal | null = null;
  let stoppedAt = 0;
  const onSignal = (signal: StopSignal) => {
    if (stoppedBy) {
      if (performance.now() - stoppedAt < DUPLICATE_SIGNAL_MS) return;
      process.exit(SIGNAL_EXIT_CODES[signal]);
    }
    stoppedBy = signal;
    stoppedAt = performance.now();
    console.log(`\nstopping (${signal}): finishing this step (a running evaluation is cancelled) and writing a checkpoint (${signal === 'SIGINT' ? 'Ctrl-C again' : 'another SIGTERM'} to exit at once)`);
  };
  const handlers = (Object.keys(SIGNAL_EXIT_CODES) as StopSignal[]).map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  try {
    await runTraining(args, { shouldStop: () => stoppedBy !== null });
    return stoppedBy ? SIGNAL_EXIT_CODES[stoppedBy] : 0;
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}
