// A resumed run and an uninterrupted run with the same seed produce identical CSVs (issue 4).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig, runTraining } from '../src/trainer/run.js';
import { readCheckpoint, writeCheckpoint } from '../src/checkpoint/checkpoint-file.js';
import { CheckpointError, ConfigError } from '../src/errors.js';

const TINY = [
  'task=cartpole-swingup', 'model_size=null', 'enc_dim=32', 'mlp_dim=32', 'latent_dim=16', 'num_q=2',
  'num_samples=32', 'num_elites=8', 'num_pi_trajs=4', 'iterations=2', 'batch_size=16',
  'episode_length=50', 'seed_steps=100', 'pretrain_updates=10', 'eval_freq=100', 'eval_episodes=2', 'log_freq=50',
  'checkpoint_freq=100', 'progress=false', 'learner_threads=1', 'runtime=sync', 'steps=300', 'seed=5', 'metrics.port=0',
];

describe('resume', () => {
  for (const algo of ['tdmpc2', 'bmpc']) {
    it(`${algo}: resumed run's eval.csv equals the uninterrupted run's`, async () => {
      const extra = algo === 'bmpc' ? ['algo=bmpc', 'model_size=null', 'reanalyze_interval=5', 'reanalyze_batch_size=2'] : [];
      const a = await runTraining([...TINY, ...extra, `work_dir=${mkdtempSync(path.join(os.tmpdir(), 'tdmpc-a-'))}`]);
      const workB = mkdtempSync(path.join(os.tmpdir(), 'tdmpc-b-'));
      // Stop like Ctrl-C right after the step-200 checkpoint is written (checkpoint_freq 100).
      const ckpt200 = path.join(workB, 'cartpole-swingup', algo, 'default', 'seed-5', 'checkpoints', 'step-200.ckpt');
      const b1 = await runTraining([...TINY, ...extra, `work_dir=${workB}`], { shouldStop: () => existsSync(ckpt200) });
      expect(b1.state.step).toBe(200);
      const ckpt = path.join(b1.dir, 'checkpoints', 'step-200.ckpt');
      expect(ckpt).toBe(ckpt200);
      expect(existsSync(ckpt)).toBe(true);
      // Resumed with two engine threads (the run used one): thread counts give the same bits.
      const b2 = await runTraining([...extra, `resume=${ckpt}`, 'steps=300', 'progress=false', 'learner_threads=2']);
      expect(b2.config.learner_threads).toBe(2);
      expect(b2.state.step).toBe(300);
      expect(b2.state.updates).toBe(a.state.updates);
      const csvA = readFileSync(path.join(a.dir, 'eval.csv'), 'utf8');
      const csvB = readFileSync(path.join(b2.dir, 'eval.csv'), 'utf8');
      expect(csvB).toBe(csvA);
      expect(csvA.trim().split('\n').length).toBe(5);
      // The last step is written once, as final.ckpt (no periodic step-300.ckpt beside it).
      for (const dir of [a.dir, b2.dir]) {
        expect(existsSync(path.join(dir, 'checkpoints', 'final.ckpt'))).toBe(true);
        expect(existsSync(path.join(dir, 'checkpoints', 'step-300.ckpt'))).toBe(false);
      }
    });
  }

  it('rejects unreadable checkpoints and changed math before training', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tdmpc-bad-'));
    const bad = path.join(dir, 'bad.ckpt');
    writeFileSync(bad, 'not a checkpoint');
    await expect(runTraining([`resume=${bad}`])).rejects.toThrow(CheckpointError);
    await expect(runTraining([`resume=${path.join(dir, 'missing.ckpt')}`])).rejects.toThrow(/does not exist/);
    const run = await runTraining([...TINY, 'steps=150', `work_dir=${dir}`]);
    const ckpt = path.join(run.dir, 'checkpoints', 'final.ckpt');
    await expect(runTraining([`resume=${ckpt}`, 'horizon=5'])).rejects.toThrow(ConfigError);
    await expect(runTraining([`resume=${ckpt}`, 'horizon=5'])).rejects.toThrow(/cannot change 'horizon'/);
    // A checkpoint from before q_estimate existed planned with the mean over value heads: it resumes so.
    expect(resolveConfig([`resume=${ckpt}`]).cfg.q_estimate).toBe('avg2');
    const old = readCheckpoint(ckpt);
    delete (old.meta.config as Record<string, unknown>).q_estimate;
    const oldCkpt = path.join(dir, 'old.ckpt');
    writeCheckpoint(oldCkpt, old);
    expect(resolveConfig([`resume=${oldCkpt}`]).cfg.q_estimate).toBe('mean');
    // NaN/Inf in any saved model or optimizer array (here the second Adam moment) is refused before
    // the run folder is touched: resuming would train on NaN from the first update.
    const poisoned = readCheckpoint(ckpt);
    const v = poisoned.sections['optim.v'] as Float32Array;
    v[3] = Number.POSITIVE_INFINITY;
    v[10] = Number.NaN;
    const nanCkpt = path.join(dir, 'nan.ckpt');
    writeCheckpoint(nanCkpt, poisoned);
    const before = readdirSync(run.dir, { recursive: true }).sort();
    await expect(runTraining([`resume=${nanCkpt}`])).rejects.toThrow(CheckpointError);
    await expect(runTraining([`resume=${nanCkpt}`])).rejects.toThrow(
      /section 'optim.v' holds 2 NaN\/Inf values of \d+ \(first at index 3\).*pass resume= an earlier checkpoint/);
    expect(readdirSync(run.dir, { recursive: true }).sort()).toEqual(before);
    // A finished run (or steps= not beyond the checkpoint) has nothing left to train: said, not a silent exit.
    await expect(runTraining([`resume=${ckpt}`])).rejects.toThrow(ConfigError);
    await expect(runTraining([`resume=${ckpt}`, 'steps=100'])).rejects.toThrow(
      /^checkpoint '.*final\.ckpt' is at step 150 and steps=100 ends the run there: nothing is left to train; pass a larger steps= to train longer \(e\.g\. steps=300\)$/);
    expect(readdirSync(run.dir, { recursive: true }).sort()).toEqual(before);
  });

  it('resume= added to the run\'s own command continues it; algo= and config= that change the run are refused (they were ignored)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tdmpc-resume-cmd-'));
    const preset = path.join(dir, 'preset.yaml');
    writeFileSync(preset, 'horizon: 3\nlog_freq: 50\n');
    const command = [...TINY, 'algo=tdmpc2', `config=${preset}`, 'steps=150', `work_dir=${dir}`];
    const run = await runTraining(command);
    const ckpt = path.join(run.dir, 'checkpoints', 'final.ckpt');
    // The same command (relative work_dir too) with resume= and more steps.
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(resolveConfig([...command.map((a) => (a.startsWith('work_dir=') ? 'work_dir=.' : a)), `resume=${ckpt}`, 'steps=300']).cfg.steps).toBe(300);
    } finally {
      process.chdir(cwd);
    }
    const resumed = await runTraining([...command, `resume=${ckpt}`, 'steps=200']);
    expect(resumed.state.step).toBe(200);
    const latest = path.join(run.dir, 'checkpoints', 'final.ckpt');
    await expect(runTraining([`resume=${latest}`, 'algo=bmpc', 'steps=300'])).rejects.toThrow(/^cannot change 'algo' when resuming \(checkpoint has "tdmpc2"\); .*; leave algo out \(or give the checkpoint's value\) to continue the run, or leave resume= out to start a separate one$/);
    const other = path.join(dir, 'other.yaml');
    writeFileSync(other, 'horizon: 5\n');
    await expect(runTraining([`resume=${latest}`, `config=${other}`, 'steps=300'])).rejects.toThrow(
      new RegExp(`^cannot change 'horizon' when resuming \\(${other} sets 5; checkpoint has 3\\)`));
    await expect(runTraining([`resume=${latest}`, `work_dir=${path.join(dir, 'elsewhere')}`, 'steps=300'])).rejects.toThrow(/^cannot change 'work_dir' when resuming/);
  });

  it('keeps the eval row at the checkpoint\'s step when the resumed run does not evaluate it again (eval_episodes=0)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tdmpc-evalrow-'));
    const run = await runTraining([...TINY, 'steps=200', `work_dir=${dir}`]);
    const rows = (f: string) => readFileSync(f, 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));
    const csv = path.join(run.dir, 'eval.csv');
    expect(rows(csv)).toEqual([0, 100, 200]);
    await runTraining([`resume=${path.join(run.dir, 'checkpoints', 'final.ckpt')}`, 'steps=300', 'eval_episodes=0']);
    expect(rows(csv)).toEqual([0, 100, 200]); // the step-200 row stays; nothing evaluates 300
    await runTraining([`resume=${path.join(run.dir, 'checkpoints', 'final.ckpt')}`, 'steps=400', 'eval_episodes=2']);
    expect(rows(csv)).toEqual([0, 100, 200, 300, 400]); // 300 is evaluated again at the resumed run's start
  });
});
