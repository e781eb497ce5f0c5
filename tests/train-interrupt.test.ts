// Ctrl-C (SIGINT) and SIGTERM (a scheduler's preemption) are heard promptly in both runtimes, even
// in the middle of a long evaluation: the evaluation is cancelled (nothing logged), a checkpoint is
// written and the CLI exits 130 / 143. A hang-up (the terminal closed) stops the same way.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TIME_SCALE, TINY_THREADS } from './fixtures/runtime/args.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// One evaluation step plans 32 episodes x 536 trajectories through 256-wide layers (a second or
// two per step on 2 cores), so the evaluation at step 0 would run for many minutes; the slow JS
// engine gets a smaller plan (under a second per step) that still makes a minutes-long evaluation.
const SLOW_EVAL = [
  'task=cartpole-swingup', 'model_size=null', 'enc_dim=64', 'latent_dim=64', 'num_q=2',
  'steps=100000', 'metrics=false', 'log_freq=50',
  ...(TIME_SCALE > 1 ? ['mlp_dim=128', 'eval_episodes=8', 'num_samples=64', 'iterations=2'] : ['mlp_dim=256', 'eval_episodes=32']),
];

async function interruptDuringEval(runtime: string, signal: 'SIGINT' | 'SIGTERM'): Promise<{ code: number | null; out: string; secondsAfterSigint: number; dir: string }> {
  const work = mkdtempSync(path.join(os.tmpdir(), `tdmpc-int-${runtime}-`));
  const child = spawn(process.execPath, [path.join(root, 'bin', 'tdmpc.js'), 'train', ...SLOW_EVAL, `runtime=${runtime}`, `work_dir=${work}`], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let sigintAt = 0;
  const collect = (d: Buffer) => {
    out += d.toString();
    // The start line is printed just before the loop (and the step-0 evaluation) begins.
    if (!sigintAt && out.includes('tdmpc train cartpole-swingup')) {
      setTimeout(() => { sigintAt = Date.now(); child.kill(signal); }, 3000);
      sigintAt = -1;
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, out, secondsAfterSigint: (Date.now() - sigintAt) / 1000, dir: path.join(work, 'cartpole-swingup', 'tdmpc2', 'default', 'seed-1') };
}

describe('Ctrl-C or SIGTERM during an evaluation', () => {
  const cases = [['sync', 'SIGINT', 130], ['threads', 'SIGINT', 130], ['sync', 'SIGTERM', 143], ['threads', 'SIGTERM', 143]] as const;
  for (const [runtime, signal, exitCode] of cases) {
    it(`runtime=${runtime}, ${signal}: cancels the evaluation, writes a checkpoint and exits ${exitCode} within seconds`, async () => {
      const r = await interruptDuringEval(runtime, signal);
      expect(r.code, r.out).toBe(exitCode);
      expect(r.out).toContain(`stopping (${signal})`);
      expect(r.secondsAfterSigint, r.out).toBeLessThan(30);
      expect(r.out).not.toMatch(/eval @ 0/);
      const files = readdirSync(path.join(r.dir, 'checkpoints'));
      expect(files).toContain('latest.ckpt');
      expect(files.some((f) => /^step-\d+\.ckpt$/.test(f))).toBe(true);
      const csv = path.join(r.dir, 'eval.csv');
      if (existsSync(csv)) expect(readFileSync(csv, 'utf8').trim().split('\n')).toHaveLength(1); // header only
    }, 90_000);
  }
});

// After the last step the threaded runtime waits for the evaluation in flight and then runs the
// final one; both heed a stop like the loop does (the training is complete, so it is final.ckpt).
describe('Ctrl-C while the threaded runtime waits for its final evaluation', () => {
  it('cancels it, writes final.ckpt and exits 130 within seconds', async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'tdmpc-int-final-'));
    // 64 evaluation episodes of 1000 steps planning 536 candidates x 6 iterations: minutes; one
    // env's acting for 100 steps: seconds.
    const args = [
      'task=cartpole-swingup', 'model_size=null', 'enc_dim=32', 'mlp_dim=32', 'latent_dim=16', 'num_q=2', 'batch_size=16',
      'steps=200', 'seed_steps=100', 'pretrain_updates=10', 'eval_freq=100000', 'eval_episodes=64', 'log_freq=50',
      'metrics=false', 'runtime=threads', `work_dir=${work}`,
    ];
    const child = spawn(process.execPath, [path.join(root, 'bin', 'tdmpc.js'), 'train', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const dir = path.join(work, 'cartpole-swingup', 'tdmpc2', 'default', 'seed-1');
    const metrics = path.join(dir, 'metrics.jsonl');
    let sigintAt = 0;
    const poll = setInterval(() => {
      // The last train line is written once the last step is taken and the wind-down begins.
      if (!sigintAt && existsSync(metrics) && readFileSync(metrics, 'utf8').includes('"step":200,"kind":"train"')) {
        sigintAt = Date.now();
        child.kill('SIGINT');
      }
    }, 100);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearInterval(poll);
    expect(sigintAt, out).toBeGreaterThan(0);
    expect(code, out).toBe(130);
    expect((Date.now() - sigintAt) / 1000, out).toBeLessThan(30);
    expect(out).toMatch(/stopping: the (final )?evaluation.*was cancelled/);
    expect(readdirSync(path.join(dir, 'checkpoints'))).toContain('final.ckpt');
  }, 120_000);
});

// `timeout` sends its signal to the command and again to the command's process group, so the CLI
// gets it twice at once (queued together while a step or a run of updates holds the event loop).
// The duplicate used to count as "Ctrl-C again: exit at once", killing the run before its checkpoint.
describe('a stop signal delivered twice at once', () => {
  for (const runtime of ['sync', 'threads']) {
    it(`runtime=${runtime}: is one stop, with a checkpoint`, async () => {
      const work = mkdtempSync(path.join(os.tmpdir(), `tdmpc-int-twice-${runtime}-`));
      const args = [
        'task=cartpole-swingup', 'model_size=null', 'enc_dim=32', 'mlp_dim=32', 'latent_dim=16', 'num_q=2', 'batch_size=16',
        'num_samples=32', 'num_elites=8', 'num_pi_trajs=4', 'iterations=2', 'episode_length=50',
        'steps=100000', 'seed_steps=100', 'pretrain_updates=1000000', 'eval_episodes=0', 'metrics=false', `runtime=${runtime}`, `work_dir=${work}`,
      ];
      const child = spawn(process.execPath, [path.join(root, 'bin', 'tdmpc.js'), 'train', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let sentAt = 0;
      const collect = (d: Buffer) => {
        out += d.toString();
        if (!sentAt && out.includes('pretraining on seed data')) {
          sentAt = Date.now();
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGTERM'), 20);
        }
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      expect(code, out).toBe(143);
      expect((Date.now() - sentAt) / 1000, out).toBeLessThan(30);
      const dir = path.join(work, 'cartpole-swingup', 'tdmpc2', 'default', 'seed-1');
      expect(readdirSync(path.join(dir, 'checkpoints')), out).toContain('step-101.ckpt');
    }, 60_000);
  }
});

// The terminal closing (ssh dropped, window closed) used to kill the run at once: no checkpoint,
// hours lost. Now SIGHUP stops like SIGTERM, and the process then ends by SIGHUP as a hung-up
// process does (a normal exit aborted in Node's terminal reset on the dead terminal). Run on a real
// pseudo-terminal (tests/fixtures/hangup.py, Python's pty module).
describe('the terminal closing (SIGHUP)', () => {
  for (const runtime of ['sync', 'threads'] as const) {
    it(`runtime=${runtime}: writes a checkpoint and ends by SIGHUP`, () => {
      const work = mkdtempSync(path.join(os.tmpdir(), `tdmpc-hup-${runtime}-`));
      const args = [...TINY_THREADS.filter((a) => a !== 'runtime=threads' && a !== 'progress=false'), `runtime=${runtime}`, 'steps=1000000', 'metrics=false', `work_dir=${work}`];
      const r = spawnSync('python3', [path.join(root, 'tests', 'fixtures', 'hangup.py'), 'step ', String(3 * TIME_SCALE), process.execPath, path.join(root, 'bin', 'tdmpc.js'), 'train', ...args], {
        cwd: root, encoding: 'utf8', timeout: 180_000,
      });
      expect(r.error, 'needs python3 (its pty module provides the terminal)').toBeUndefined();
      const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { exit_code: number | null; signal: number | null; marker_seen: boolean; seconds_after_hangup: number; output: string };
      expect(result.marker_seen, result.output).toBe(true); // hung up while training, 3 s after the first progress line
      expect(result.signal, result.output + r.stderr).toBe(os.constants.signals.SIGHUP);
      expect(result.seconds_after_hangup).toBeLessThan(30);
      const files = readdirSync(path.join(work, 'cartpole-swingup', 'tdmpc2', 'default', 'seed-1', 'checkpoints'));
      expect(files).toContain('latest.ckpt');
      expect(files.some((f) => /^step-\d+\.ckpt$/.test(f))).toBe(true);
    }, 200_000);
  }
});

// Standard output closing under a run (`| tee log` killed, `| head`) used to end it at once with an
// unhandled EPIPE, without a checkpoint. Now it stops like a signal and exits 141.
describe('standard output closing (EPIPE)', () => {
  for (const runtime of ['sync', 'threads'] as const) {
    it(`runtime=${runtime}: writes a checkpoint and exits 141`, async () => {
      const work = mkdtempSync(path.join(os.tmpdir(), `tdmpc-pipe-${runtime}-`));
      const args = [...TINY_THREADS.filter((a) => a !== 'runtime=threads' && a !== 'progress=false'), `runtime=${runtime}`, 'steps=1000000', 'metrics=false', 'log_freq=10', `work_dir=${work}`];
      const child = spawn(process.execPath, [path.join(root, 'bin', 'tdmpc.js'), 'train', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      let seen = '';
      child.stdout.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('step ')) child.stdout.destroy(); // the reader goes away, like `| head`
      });
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      expect(code, err).toBe(141);
      expect(err).toContain('stopping (output closed)');
      const files = readdirSync(path.join(work, 'cartpole-swingup', 'tdmpc2', 'default', 'seed-1', 'checkpoints'));
      expect(files).toContain('latest.ckpt');
      expect(files.some((f) => /^step-\d+\.ckpt$/.test(f))).toBe(true);
    }, 120_000);
  }
});
