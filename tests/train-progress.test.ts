// The progress display in both runtimes: when seeding ends, the pretraining burst is announced
// before it runs (with default settings it holds the run for minutes without a step milestone).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TIME_SCALE } from './fixtures/runtime/args.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Long enough that the threaded runtime's 200 ms supervision tick sees the burst running (~3 s
// native); the slow JS engine gets fewer updates.
const PRETRAIN = TIME_SCALE > 1 ? 150 : 1500;

const TINY = [
  'task=cartpole-balance', 'model_size=null', 'enc_dim=32', 'mlp_dim=32', 'latent_dim=16', 'num_q=2',
  'num_samples=32', 'num_elites=8', 'num_pi_trajs=4', 'iterations=2', 'batch_size=16',
  'episode_length=50', 'seed_steps=100', 'steps=120', `pretrain_updates=${PRETRAIN}`, 'eval_episodes=0',
  'log_freq=50', 'metrics=false', 'learner_threads=1',
];

describe('progress display', () => {
  for (const runtime of ['sync', 'threads']) {
    it(`runtime=${runtime}: announces the pretraining burst once, before it runs`, () => {
      const work = mkdtempSync(path.join(os.tmpdir(), `tdmpc-progress-${runtime}-`));
      const r = spawnSync(process.execPath, [path.join(root, 'bin', 'tdmpc.js'), 'train', ...TINY, `runtime=${runtime}`, `work_dir=${work}`], {
        cwd: root, encoding: 'utf8', timeout: 120_000,
      });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const lines = r.stdout.split('\n');
      const announced = lines.filter((l) => l === `pretraining on seed data: ${PRETRAIN} updates`);
      expect(announced, r.stdout).toHaveLength(1);
      const at = lines.indexOf(announced[0]!);
      expect(lines.slice(0, at).some((l) => l.startsWith('tdmpc train cartpole-balance')), r.stdout).toBe(true);
      // Announced before it ran: every progress line before the announcement counts fewer updates.
      const before = lines.slice(0, at).map((l) => /\| (\d+) updates/.exec(l)).filter((m) => m !== null);
      for (const m of before) expect(Number(m![1]), r.stdout).toBeLessThan(PRETRAIN);
      // The same UTD report in both runtimes: the ratio over the learning steps, the burst aside
      // (sync printed updates / all steps, 12.7 here, and 0.733 for a run of ratio 1 after seeding).
      const done = `done: 120 env steps, ${PRETRAIN + 20} updates (realized utd 1.0000 over the 20 learning steps, target 1; ${PRETRAIN + 20} expected) in `;
      expect(lines.slice(at).some((l) => l.startsWith(done)), r.stdout).toBe(true);
    }, 150_000);
  }
});
