// The expert stored with random seeding steps, read back from a real run's checkpointed replay:
// TD-M(PC)²'s (the random action, std exp(log_std_max)) by default, bmpc-jax's N(0, 1) under the
// bmpc preset; in both runtimes.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { runTraining } from '../src/trainer/run.js';
import { readCheckpoint } from '../src/checkpoint/checkpoint-file.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';

describe('expert stored with seeding steps', () => {
  for (const runtime of ['sync', 'threads'] as const) {
    it(`runtime=${runtime}: the action with std exp(log_std_max) (tdmpc2), N(0, 1) (algo=bmpc)`, async () => {
      for (const algo of ['tdmpc2', 'bmpc'] as const) {
        const tiny = TINY_THREADS.filter((a) => a !== 'runtime=threads');
        const res = await runTraining([...tiny, `runtime=${runtime}`, `algo=${algo}`, 'steps=120', 'seed_steps=100', 'eval_episodes=0',
          'reanalyze_interval=0', `work_dir=${workDir(`seedexp-${runtime}-${algo}`)}`]);
        const ckpt = readCheckpoint(path.join(res.dir, 'checkpoints', 'final.ckpt'));
        const mean = ckpt.sections['replay.expertMean'] as Float32Array;
        const std = ckpt.sections['replay.expertStd'] as Float32Array;
        const action = ckpt.sections['replay.action'] as Float32Array;
        const A = res.derived.actionDim;
        const logStdMax = res.config.log_std_max;
        for (let k = 0; k < 50 * A; k++) { // the first 50 steps of ring 0 are seeding steps
          if (algo === 'bmpc') {
            expect([mean[k], std[k]]).toEqual([0, 1]);
          } else {
            expect(mean[k]).toBe(action[k]);
            expect(std[k]).toBeCloseTo(Math.exp(logStdMax), 5);
          }
        }
      }
    }, 120_000);
  }
});
