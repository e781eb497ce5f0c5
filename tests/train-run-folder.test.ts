// The run folder of a fresh run: a second fresh run with the same task/algo/exp_name/seed used to
// replace eval.csv and metrics.jsonl silently while the first run's checkpoints stayed beside its
// own (latest.ckpt then pointed into a different run than eval.csv). It is now refused before any
// work unless overwrite=true, which starts clean. A work_dir under /proc used to hang forever in
// Node's recursive mkdir.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runTraining } from '../src/trainer/run.js';
import { ConfigError } from '../src/errors.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';

const TINY_SYNC = [
  ...TINY_THREADS.filter((a) => a !== 'runtime=threads' && a !== 'metrics.port=0'), 'runtime=sync', 'eval_freq=100',
];
const folderOf = (work: string) => path.join(work, 'cartpole-swingup', 'tdmpc2', 'default', 'seed-1');
const evalSteps = (dir: string) => readFileSync(path.join(dir, 'eval.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));
/** Every file of the folder with its size and modification time: "nothing was touched". */
function listing(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = `${s.size}@${s.mtimeMs}`;
    }
  };
  walk(dir);
  return out;
}

describe('a fresh run into a folder that holds an earlier run', () => {
  for (const runtime of ['sync', 'threads'] as const) {
    it(`${runtime}: is refused before any work, then overwrite=true replaces the earlier run`, async () => {
      const work = workDir(`folder-${runtime}`);
      const base = runtime === 'sync' ? TINY_SYNC : TINY_THREADS;
      const args = [...base, `work_dir=${work}`];
      const first = await runTraining([...args, 'steps=300', 'checkpoint_freq=100']);
      const dir = folderOf(work);
      expect(first.dir).toBe(dir);
      const before = listing(dir);
      // step-100, step-200 (threads: the step the supervisor saw), final, latest.
      expect(Object.keys(before).filter((f) => f.startsWith('checkpoints/')).length).toBe(4);
      expect(before['checkpoints/final.ckpt']).toBeDefined();

      const again = runTraining([...args, 'steps=150']);
      await expect(again).rejects.toThrow(ConfigError);
      await expect(again).rejects.toThrow(new RegExp(`^run folder ${dir} already holds an earlier run \\(eval.csv with \\d+ evaluation\\(s\\), metrics.jsonl, 4 checkpoint file\\(s\\)\\): `
        + `continue it with resume=${path.join(dir, 'checkpoints', 'latest.ckpt')}, start a separate run with another exp_name= or seed=, or replace it with overwrite=true$`));
      expect(listing(dir)).toEqual(before);

      // overwrite=true: the earlier run's results are gone, not mixed with the new one's.
      const second = await runTraining([...args, 'steps=150', 'overwrite=true']);
      expect(second.state.step).toBe(150);
      expect(readdirSync(path.join(dir, 'checkpoints')).sort()).toEqual(['final.ckpt', 'latest.ckpt']);
      expect(evalSteps(dir).every((s) => s <= 150)).toBe(true);
      const steps = readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
      expect(Math.max(...steps)).toBeLessThanOrEqual(150);
      expect(readFileSync(path.join(dir, 'config.yaml'), 'utf8')).toContain('overwrite: true');

      // overwrite=true starts a run; resume= continues one: both at once is refused. A run that
      // began with overwrite=true resumes as usual (its config says how it began).
      const ckpt = path.join(dir, 'checkpoints', 'final.ckpt');
      const both = runTraining([`resume=${ckpt}`, 'steps=200', 'overwrite=true']);
      await expect(both).rejects.toThrow(ConfigError);
      await expect(both).rejects.toThrow(`overwrite=true starts a fresh run over the run folder, but resume= continues the run of checkpoint '${ckpt}': pass one of them`);
      const resumed = await runTraining([`resume=${ckpt}`, 'steps=200']);
      expect(resumed.state.step).toBe(200);
      expect(readdirSync(path.join(dir, 'checkpoints')).sort()).toEqual(['final.ckpt', 'latest.ckpt']);
      expect(readFileSync(path.join(dir, 'config.yaml'), 'utf8')).toContain('overwrite: false');
    }, 240_000);
  }

  it('a folder without results (a run refused before its first log line) is reused', async () => {
    const work = workDir('folder-empty');
    const dir = folderOf(work);
    mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
    writeFileSync(path.join(dir, 'config.yaml'), '# left by a refused run\n');
    writeFileSync(path.join(dir, 'eval.csv'), 'step,reward,seed\n');
    writeFileSync(path.join(dir, 'metrics.jsonl'), '');
    const run = await runTraining([...TINY_SYNC, 'steps=150', `work_dir=${work}`]);
    expect(run.dir).toBe(dir);
    expect(evalSteps(dir)).toEqual([0, 100, 150]);
  }, 120_000);
});

describe('a work_dir where folders cannot be made', () => {
  it.runIf(existsSync('/proc/self'))('under /proc: a clear error naming the path, in both runtimes (it used to hang in mkdir)', async () => {
    for (const runtime of ['sync', 'threads']) {
      const base = runtime === 'sync' ? TINY_SYNC : TINY_THREADS;
      const run = runTraining([...base, 'steps=150', 'work_dir=/proc/tdmpc-no-such-dir']);
      await expect(run).rejects.toThrow(ConfigError);
      await expect(run).rejects.toThrow(/^work_dir '\/proc\/tdmpc-no-such-dir': cannot create the run folder \/proc\/tdmpc-no-such-dir\/cartpole-swingup\/tdmpc2\/default\/seed-1 (\(ENOENT at \/proc\/tdmpc-no-such-dir\)|, because '\/proc' is not writable \(EACCES\)); pass work_dir= a writable directory/);
    }
  }, 120_000);
});
