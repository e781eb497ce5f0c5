// metrics.jsonl's train lines in both runtimes: the threaded runtime logged the loss terms only,
// while the synchronous loop logged every update and planner diagnostic of its agent (TD target,
// policy entropy and scale, KL, plan std, reanalysed rows, ...). A sweep that switched runtime lost
// those columns. Now the learner and actors count them into their metrics blocks too.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runTraining } from '../src/trainer/run.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';

type Line = Record<string, number | string>;
const trainLines = (dir: string): Line[] => readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')
  .map((l) => JSON.parse(l) as Line).filter((l) => l.kind === 'train');

// The threaded runtime's own (actors, policy lag, parameter version), and a fault count it logs
// even without reanalysis.
const THREADED_ONLY = ['actor_restarts', 'parameter_version', 'policy_lag_p50', 'policy_lag_p99', 'reanalysis_nonfinite_scores'];

describe('train lines of metrics.jsonl', () => {
  for (const algo of ['tdmpc2', 'bmpc']) {
    it(`algo=${algo}: the threaded runtime logs every key the synchronous loop logs, with finite values`, async () => {
      const args = [...TINY_THREADS, `algo=${algo}`, 'steps=300', 'eval_episodes=0', 'metrics=false'];
      const threads = await runTraining([...args, `work_dir=${workDir(`lines-${algo}-threads`)}`]);
      const sync = await runTraining([...args.filter((a) => a !== 'runtime=threads'), 'runtime=sync', `work_dir=${workDir(`lines-${algo}-sync`)}`]);
      const keys = (lines: Line[]) => [...new Set(lines.flatMap((l) => Object.keys(l)))].sort();
      const last = trainLines(threads.dir).at(-1)!;
      expect(keys(trainLines(threads.dir)).filter((k) => !THREADED_ONLY.includes(k))).toEqual(keys(trainLines(sync.dir)).filter((k) => !THREADED_ONLY.includes(k)));
      for (const key of ['td_target', 'pi_entropy', 'pi_scale', 'pi_grad_norm', 'kl', 'plan_std', 'plan_elite_value']) {
        expect(Number.isFinite(last[key]), key).toBe(true);
      }
      expect(last.plan_std as number).toBeGreaterThan(0);
      expect(last.pi_updated).toBe(1);
      // bmpc reanalyses: the learner's total, as the synchronous agent counts it (same updates, same schedule).
      if (algo === 'bmpc') expect(last.reanalyzed_total).toBe(trainLines(sync.dir).at(-1)!.reanalyzed_total);
    }, 120_000);
  }
});
