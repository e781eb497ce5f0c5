// `tdmpc eval checkpoint=...`: a saved agent evaluated from any checkpoint `tdmpc train` wrote
// (sync or threads, with or without the replay), reproducibly, with bad input refused up front.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTraining } from '../src/trainer/run.js';
import { evaluateCheckpoint } from '../src/trainer/evaluate-checkpoint.js';
import { readCheckpoint, writeCheckpoint } from '../src/checkpoint/checkpoint-file.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tdmpc = (...args: string[]) => spawnSync(process.execPath, [path.join(root, 'bin', 'tdmpc.js'), ...args], { encoding: 'utf8', cwd: root, timeout: 120_000 });

const TINY_SYNC = [
  'task=cartpole-swingup', 'model_size=null', 'enc_dim=32', 'mlp_dim=32', 'latent_dim=16', 'num_q=2',
  'num_samples=32', 'num_elites=8', 'num_pi_trajs=4', 'iterations=2', 'batch_size=16',
  'episode_length=50', 'seed_steps=100', 'pretrain_updates=10', 'eval_episodes=0', 'log_freq=100',
  'checkpoint_freq=0', 'progress=false', 'learner_threads=1', 'runtime=sync', 'seed=4', 'steps=200', 'metrics.port=0',
];

describe('tdmpc eval', () => {
  it('evaluates a sync run\'s checkpoint: per-episode returns, reproducible, seed and mode honoured', async () => {
    const run = await runTraining([...TINY_SYNC, `work_dir=${workDir('eval-sync')}`]);
    const file = path.join(run.dir, 'checkpoints', 'final.ckpt');
    const a = await evaluateCheckpoint(file, { episodes: 3, threads: 1 });
    expect(a).toMatchObject({ task: 'cartpole-swingup', algo: 'tdmpc2', step: 200, mode: 'plan', seed: 4 });
    expect(a.returns.length).toBe(3);
    for (const r of a.returns) expect(r).toBeGreaterThanOrEqual(0);
    for (const r of a.returns) expect(r).toBeLessThanOrEqual(50); // 50 steps of reward <= 1
    expect(a.mean).toBeCloseTo(a.returns.reduce((s, x) => s + x, 0) / 3, 12);
    // Same checkpoint, options and thread count: the same episodes and actions.
    expect((await evaluateCheckpoint(file, { episodes: 3, threads: 1 })).returns).toEqual(a.returns);
    const other = await evaluateCheckpoint(file, { episodes: 3, threads: 1, seed: 99 });
    expect(other.seed).toBe(99);
    expect(other.returns).not.toEqual(a.returns); // other initial states
    const pi = await evaluateCheckpoint(file, { episodes: 2, threads: 1, mode: 'pi' });
    expect(pi.mode).toBe('pi');
    expect(pi.returns.length).toBe(2);
  });

  it('evaluates a threaded run\'s checkpoint written without its replay', async () => {
    const run = await runTraining([...TINY_THREADS, 'steps=400', 'save_buffer=false', 'checkpoint_freq=0', `work_dir=${workDir('eval-threads')}`]);
    const r = await evaluateCheckpoint(path.join(run.dir, 'checkpoints', 'final.ckpt'), { episodes: 2, threads: 1 });
    expect(r.step).toBe(400);
    expect(r.returns.length).toBe(2);
    expect(r.returns.every(Number.isFinite)).toBe(true);
  });

  it('CLI: prints the returns and a JSON line; bad input exits 2 naming the fix', async () => {
    const run = await runTraining([...TINY_SYNC, 'seed=5', `work_dir=${workDir('eval-cli')}`]);
    const file = path.join(run.dir, 'checkpoints', 'final.ckpt');
    const ok = tdmpc('eval', `checkpoint=${file}`, 'episodes=2', 'threads=1', '--json');
    expect(ok.status, ok.stderr).toBe(0);
    const out = JSON.parse(ok.stdout.trim().split('\n').pop()!) as { eval: string; returns: number[]; mean: number; step: number; plan_nonfinite_scores: number };
    expect(out.eval).toBe('cartpole-swingup');
    expect(out.plan_nonfinite_scores).toBe(0); // a healthy model: counted, none, and no warning
    expect(ok.stderr).not.toMatch(/NaN\/Inf/);
    expect(out.returns.length).toBe(2);
    expect(out.step).toBe(200);
    expect(ok.stderr).toMatch(/cartpole-swingup \(tdmpc2, step 200, planner, seed 5\): mean return .* over 2 episodes/);

    const cases: [string[], RegExp][] = [
      [[], /eval needs checkpoint=<file>/],
      [['checkpoint=/nonexistent/x.ckpt'], /'\/nonexistent\/x.ckpt' does not exist; pass checkpoint=/],
      [[`checkpoint=${file}`, 'episodes=0'], /episodes must be a positive integer/],
      [[`checkpoint=${file}`, 'episodes=two'], /episodes must be a non-negative integer \(got 'two'\)/],
      [[`checkpoint=${file}`, 'mode=mpc'], /mode must be 'plan' or 'pi'/],
      [[`checkpoint=${file}`, 'threads=0'], /threads must be an integer from 1 to 64/],
      [[`checkpoint=${file}`, 'episode=3'], /unknown argument 'episode=3': eval takes checkpoint=, episodes=, seed=, mode=, threads=, task_module= and --json/],
    ];
    for (const [args, message] of cases) {
      const r = tdmpc('eval', ...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const notCkpt = path.join(workDir('eval-bad'), 'x.ckpt');
    writeFileSync(notCkpt, 'not a checkpoint');
    const bad = tdmpc('eval', `checkpoint=${notCkpt}`);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/not a tdmpc-runtime checkpoint/);
    // A model that holds NaN (damaged or edited after it was written) is refused before any episode runs.
    const poisoned = readCheckpoint(file);
    (poisoned.sections['model.params'] as Float32Array)[7] = Number.NaN;
    const nanCkpt = path.join(workDir('eval-nan'), 'nan.ckpt');
    writeCheckpoint(nanCkpt, poisoned);
    const nan = tdmpc('eval', `checkpoint=${nanCkpt}`, 'threads=1');
    expect(nan.status).toBe(2);
    expect(nan.stderr).toMatch(/section 'model.params' holds 1 NaN\/Inf values of \d+ \(first at index 7\).*pass checkpoint= an earlier checkpoint/);
  });
});
