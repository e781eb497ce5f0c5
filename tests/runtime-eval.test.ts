// The threaded runtime's first evaluation: the evaluation thread used to build its agent and
// environments when the step-0 evaluation arrived, and read the parameter snapshot only then, by
// which time seeding and some pretraining updates had passed. eval.csv's row at step 0 was a
// trained agent's return. Now the thread is built while the learner starts and the step-0
// evaluation is submitted before any actor steps.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runTraining } from '../src/trainer/run.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';

interface EvalLine { step: number; kind: string; episode_reward: number; parameter_version?: number }
const evalLines = (dir: string): EvalLine[] => readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')
  .map((l) => JSON.parse(l) as EvalLine).filter((l) => l.kind === 'eval');

describe('threaded evaluations', () => {
  it('the step-0 evaluation runs on the initial parameters: version 0, the same return as the synchronous loop', async () => {
    const args = [...TINY_THREADS, 'steps=300', 'eval_freq=100', 'metrics=false'];
    const threads = await runTraining([...args, `work_dir=${workDir('eval0-threads')}`]);
    const sync = await runTraining([...args.filter((a) => a !== 'runtime=threads'), 'runtime=sync', `work_dir=${workDir('eval0-sync')}`]);
    const [first] = evalLines(threads.dir);
    expect(first.step).toBe(0);
    expect(first.parameter_version).toBe(0);
    // Same seed, same initial parameters, same evaluation seeds (evaluation index 0), one engine thread.
    expect(first.episode_reward).toBe(evalLines(sync.dir)[0].episode_reward);
  }, 120_000);
});
