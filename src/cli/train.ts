// `tdmpc train key=value ...`: validates everything, then trains (src/trainer/run.ts).
// Ctrl-C (SIGINT) or SIGTERM (a scheduler's preemption, `timeout`, `docker stop`) stops
// gracefully: the loop finishes its step (or stops inside its updates, e.g. the pretraining burst,
// recording those still owed), writes a checkpoint and exits 130 / 143; a second signal exits at once.
import { runTraining } from '../trainer/run.js';

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof SIGNAL_EXIT_CODES;

export async function trainCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log('usage: tdmpc train key=value ...   (keys: see configs/default.yaml; e.g. task=cartpole-swingup algo=bmpc steps=100000 seed=1)');
    return 0;
  }
  let stoppedBy: StopSignal | null = null;
  const onSignal = (signal: StopSignal) => {
    if (stoppedBy) process.exit(SIGNAL_EXIT_CODES[signal]);
    stoppedBy = signal;
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
