// `tdmpc train key=value ...`: validates everything, then trains (src/trainer/run.ts).
// Ctrl-C stops gracefully: the loop finishes its step, writes a checkpoint and exits;
// a second Ctrl-C exits at once.
import { runTraining } from '../trainer/run.js';

export async function trainCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log('usage: tdmpc train key=value ...   (keys: see configs/default.yaml; e.g. task=cartpole-swingup algo=bmpc steps=100000 seed=1)');
    return 0;
  }
  let stopRequested = false;
  const onSigint = () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    console.log('\nstopping: finishing this step (a running evaluation is cancelled) and writing a checkpoint (Ctrl-C again to exit at once)');
  };
  process.on('SIGINT', onSigint);
  try {
    await runTraining(args, { shouldStop: () => stopRequested });
    return stopRequested ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
