// CleanRL-style smoke runs: a tiny model trains for a few hundred steps through the real CLI
// wiring (config -> task -> agent -> replay -> trainer -> checkpoint), synchronous and seeded.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runTraining } from '../src/trainer/run.js';

const TINY = [
  'model_size=null', 'enc_dim=32', 'mlp_dim=32', 'latent_dim=16', 'num_q=2',
  'num_samples=32', 'num_elites=8', 'num_pi_trajs=4', 'iterations=2', 'batch_size=16',
  'episode_length=50', 'seed_steps=100', 'eval_freq=100', 'eval_episodes=2', 'log_freq=50',
  'progress=false', 'learner_threads=1', 'runtime=sync', 'metrics.port=0',
];

function csv(file: string): string[] {
  return readFileSync(file, 'utf8').trim().split('\n');
}

const configsDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'configs');

describe('training smoke runs', () => {
  for (const algo of ['tdmpc2', 'bmpc', 'tdmpc-square']) {
    it(`${algo}: trains, evaluates, logs and checkpoints`, async () => {
      const work = mkdtempSync(path.join(os.tmpdir(), `tdmpc-smoke-${algo}-`));
      const extra = algo === 'bmpc' ? ['reanalyze_interval=5', 'reanalyze_batch_size=2', 'model_size=null', 'latent_dim=16', 'enc_dim=32', 'mlp_dim=32', 'num_q=2'] : [];
      // TD-M(PC)^2 is a config on top of tdmpc2 (configs/tdmpc-square.yaml).
      const which = algo === 'tdmpc-square' ? [`config=${path.join(configsDir, 'tdmpc-square.yaml')}`, 'prior_scale_threshold=0'] : [`algo=${algo}`];
      const res = await runTraining([...which, 'task=cartpole-balance', 'steps=300', `work_dir=${work}`, 'pretrain_updates=20', ...TINY, ...extra]);
      expect(res.state.step).toBe(300);
      // 200 post-seeding steps at utd 1 plus the pretraining burst.
      expect(res.state.updates).toBe(200 + 20);
      const lines = csv(path.join(res.dir, 'eval.csv'));
      expect(lines[0]).toBe('step,reward,seed');
      expect(lines.slice(1).map((l) => Number(l.split(',')[0]))).toEqual([0, 100, 200, 300]);
      for (const l of lines.slice(1)) expect(Number.isFinite(Number(l.split(',')[1]))).toBe(true);
      const metrics = readFileSync(path.join(res.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const train = metrics.filter((m) => m.kind === 'train' && m.step > 100);
      expect(train.length).toBeGreaterThan(0);
      for (const key of ['consistency_loss', 'reward_loss', 'value_loss', 'pi_loss', 'grad_norm', 'steps_per_s']) {
        expect(Number.isFinite(train[train.length - 1][key]), key).toBe(true);
      }
      if (algo === 'bmpc') expect(train[train.length - 1].reanalyzed_total).toBeGreaterThan(0);
      if (algo === 'tdmpc-square') {
        expect(res.config.policy_objective).toBe('residual');
        expect(train[train.length - 1].pi_prior).toBeGreaterThan(0); // the prior term ran
      }
      expect(existsSync(path.join(res.dir, 'checkpoints', 'final.ckpt'))).toBe(true);
      expect(existsSync(path.join(res.dir, 'config.yaml'))).toBe(true);
    });
  }

  // Acting and evaluating use different batch sizes; the actions handed to the environments must
  // have exactly their rows (VectorEnv.step checks), from the planner and from the policy prior.
  const shapes: [string, string[]][] = [
    ['sync: policy-only acting (mpc=false) for 1 env beside an evaluation of 2', ['runtime=sync', 'mpc=false', 'num_envs=1', 'eval_pi=true']],
    ['sync: an evaluation of 2 episodes with num_envs=4', ['runtime=sync', 'num_envs=4']],
    ['threads: an evaluation of 2 episodes with num_envs=4', ['runtime=threads', 'actors=1', 'num_envs=4', 'metrics=false']],
  ];
  for (const [name, extra] of shapes) {
    it(`${name}: trains and evaluates`, async () => {
      const work = mkdtempSync(path.join(os.tmpdir(), 'tdmpc-smoke-shapes-'));
      const res = await runTraining(['task=cartpole-balance', 'steps=300', `work_dir=${work}`, 'pretrain_updates=20', ...TINY.filter((a) => a !== 'runtime=sync'), ...extra]);
      expect(res.state.step).toBeGreaterThanOrEqual(300);
      const evals = csv(path.join(res.dir, 'eval.csv')).slice(1);
      const steps = evals.map((l) => Number(l.split(',')[0]));
      // The threaded runtime evaluates beside training and skips an evaluation while one is in flight.
      if (extra.includes('runtime=sync')) expect(steps).toEqual([0, 100, 200, 300]);
      else expect([steps[0], steps.length >= 2, steps[steps.length - 1]]).toEqual([0, true, 300]);
      for (const l of evals) expect(Number.isFinite(Number(l.split(',')[1]))).toBe(true);
    }, 60_000);
  }

  // Benchmarks time the synchronous loop's learning phase from this hook (tdmpc bench runtime).
  it('sync: afterStep sees every vector step with the updates made so far', async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'tdmpc-smoke-after-step-'));
    const seen: [number, number][] = [];
    await runTraining(['task=cartpole-balance', 'steps=300', `work_dir=${work}`, 'pretrain_updates=20', 'num_envs=2', 'eval_episodes=0', ...TINY.filter((a) => !a.startsWith('eval_'))], {
      afterStep: (step, updates) => { seen.push([step, updates]); },
    });
    expect(seen.map(([step]) => step)).toEqual(Array.from({ length: 150 }, (_, k) => 2 * (k + 1)));
    // No update until seeding ends at 100; the next step makes the burst and its own 2.
    expect(seen.filter(([step]) => step <= 100).every(([, updates]) => updates === 0)).toBe(true);
    expect(seen[50]).toEqual([102, 22]);
    expect(seen[seen.length - 1]).toEqual([300, 220]);
  });
});
