// resume= from another working directory continues the run in its own folder: the default
// work_dir is relative ('runs'), and a resumed run used to resolve it against the new directory,
// starting a second run folder there whose eval.csv held only the rows after the resume.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tdmpc = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [path.join(root, 'bin', 'tdmpc.js'), 'train', ...args], { encoding: 'utf8', cwd, timeout: 120_000 });

describe('resume from another directory', () => {
  it('writes to the run folder that holds the checkpoint', () => {
    const base = workDir('resume-dir');
    const first = path.join(base, 'first');
    const other = path.join(base, 'other');
    mkdirSync(first);
    mkdirSync(other);
    const tiny = TINY_THREADS.filter((a) => a !== 'runtime=threads');
    const r1 = tdmpc(first, ...tiny, 'runtime=sync', 'steps=200', 'eval_freq=100', 'checkpoint_freq=100');
    expect(r1.status, r1.stderr).toBe(0);
    const run = path.join(first, 'runs', 'cartpole-swingup', 'tdmpc2', 'default', 'seed-1');
    expect(readFileSync(path.join(run, 'config.yaml'), 'utf8')).toContain(`work_dir: "${path.join(first, 'runs')}"`);

    const r2 = tdmpc(other, `resume=${path.join(run, 'checkpoints', 'step-100.ckpt')}`);
    expect(r2.status, r2.stderr).toBe(0);
    expect(existsSync(path.join(other, 'runs'))).toBe(false);
    const steps = readFileSync(path.join(run, 'eval.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));
    expect(steps).toEqual([0, 100, 200]); // truncated after the checkpoint's step, then continued
  }, 180_000);

  it('refuses a checkpoint written with save_buffer=false, saying why, before any work', () => {
    const base = workDir('resume-nobuf');
    const tiny = TINY_THREADS.filter((a) => a !== 'runtime=threads');
    const r1 = tdmpc(base, ...tiny, 'runtime=sync', 'steps=150', 'eval_episodes=0', 'save_buffer=false', `work_dir=${base}`);
    expect(r1.status, r1.stderr).toBe(0);
    const ckpt = path.join(base, 'cartpole-swingup', 'tdmpc2', 'default', 'seed-1', 'checkpoints', 'final.ckpt');
    const r2 = tdmpc(base, `resume=${ckpt}`);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/was written with save_buffer=false: it holds the model and optimizer but no replay buffer/);
  }, 120_000);
});
