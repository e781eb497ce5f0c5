// The threaded runtime's periodic checkpoints and evaluations fall on their grid. The supervision
// loop polled the step counter every 200 ms, which in a fast run is a hundred steps or more: a run
// with checkpoint_freq=100 wrote step-133, step-237, ..., evaluations due every 150 steps were
// logged at 176 and 341, and a test expecting a checkpoint in 200-299 failed when the poll came
// after step 300. Now the loop wakes when the actors commit the due step.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { runTraining } from '../src/trainer/run.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';

describe('threaded checkpoints and evaluations on their grid', () => {
  it('checkpoint_freq=100: one checkpoint just past each multiple; eval_freq=300: rows at the multiples', async () => {
    const args = [...TINY_THREADS, 'steps=900', 'checkpoint_freq=100', 'eval_freq=300', 'eval_episodes=1', 'metrics=false', `work_dir=${workDir('grid')}`];
    const run = await runTraining(args);
    const periodic = readdirSync(path.join(run.dir, 'checkpoints')).map((f) => /^step-(\d+)\.ckpt$/.exec(f)).filter((m) => m !== null).map((m) => Number(m![1])).sort((a, b) => a - b);
    // The actors are paused at the step the loop wakes at, after the step in flight: a few steps past.
    expect(periodic.map((s) => Math.floor(s / 100) * 100)).toEqual([100, 200, 300, 400, 500, 600, 700, 800]);
    for (const s of periodic) expect(s % 100, `step-${s}.ckpt`).toBeLessThanOrEqual(10);
    const evalSteps = readFileSync(path.join(run.dir, 'eval.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));
    expect(evalSteps).toEqual([0, 300, 600, 900]);
  }, 120_000);
});
