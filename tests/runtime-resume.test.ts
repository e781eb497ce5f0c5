// Graceful stop and resume of threaded runs: a stop request (Ctrl-C) finishes the current steps,
// writes a checkpoint and returns; resume= continues to the run's end with the same total update
// count as an uninterrupted run. The CLI test sends a real SIGINT to `tdmpc train`.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTraining } from '../src/trainer/run.js';
import { ConfigError } from '../src/errors.js';
import type { ThreadedHandle } from '../src/runtime/run-threaded.js';
import { RateLimiter } from '../src/runtime/rate-limiter.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('threaded stop and resume', () => {
  it('stops gracefully with a checkpoint and resumes to the same update count', async () => {
    const work = workDir('resume');
    let run: ThreadedHandle | null = null;
    const args = [...TINY_THREADS, 'steps=600', 'checkpoint_freq=200', 'actors=2', 'seed=3', `work_dir=${work}`];
    const first = await runTraining(args, {
      onThreadsStart: (h) => { run = h; },
      shouldStop: () => run !== null && run.header.inserts() >= 300,
    });
    const s1 = first.summary!;
    expect(s1.stopped).toBe(true);
    expect(s1.envSteps).toBeGreaterThanOrEqual(300);
    expect(s1.envSteps).toBeLessThan(600);
    expect(path.basename(s1.checkpoint!)).toBe(`step-${s1.envSteps}.ckpt`);
    const ckpts = readdirSync(path.join(first.dir, 'checkpoints'));
    expect(ckpts).toContain('latest.ckpt');
    expect(ckpts.some((f) => /^step-2\d\d\.ckpt$/.test(f))).toBe(true); // the periodic one

    // Math can't change on resume; the runtime is part of it.
    await expect(runTraining([`resume=${s1.checkpoint}`, 'runtime=sync'])).rejects.toThrow(ConfigError);

    const second = await runTraining([`resume=${s1.checkpoint}`, 'progress=false']);
    const s2 = second.summary!;
    expect(s2.stopped).toBe(false);
    expect(s2.envSteps).toBe(600);
    const lim = new RateLimiter({ utdRatio: 1, numEnvs: 1, seedSteps: 100, pretrainUpdates: 20, errorBand: 16, totalSteps: 600 });
    expect(s2.updates).toBe(lim.finalUpdates);
    expect(existsSync(path.join(second.dir, 'checkpoints', 'final.ckpt'))).toBe(true);
    // The last step is written once, by the end of the run: no periodic step-600.ckpt beside
    // final.ckpt, one metrics line for step 600 (with the final update count).
    expect(existsSync(path.join(second.dir, 'checkpoints', 'step-600.ckpt'))).toBe(false);
    const last = readFileSync(path.join(second.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; kind: string; updates?: number })
      .filter((m) => m.kind === 'train' && m.step === 600);
    expect(last.map((m) => m.updates)).toEqual([s2.updates]);
    const steps = readFileSync(path.join(second.dir, 'eval.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));
    expect(steps[0]).toBe(0);
    expect(steps[steps.length - 1]).toBe(600);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
  });

  it('Ctrl-C on `tdmpc train runtime=threads` writes a checkpoint and exits 130', async () => {
    const work = workDir('sigint');
    const child = spawn(process.execPath, [path.join(root, 'bin', 'tdmpc.js'), 'train', ...TINY_THREADS.filter((a) => a !== 'progress=false'), 'steps=100000', 'log_freq=50', `work_dir=${work}`], {
      cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let signalled = false;
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = [...out.matchAll(/step (\d+)\/100000/g)];
        if (!signalled && m.length && Number(m[m.length - 1][1]) >= 200) {
          signalled = true;
          child.kill('SIGINT');
        }
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(signalled, out).toBe(true);
    expect(code, out).toBe(130);
    const dir = path.join(work, 'cartpole-swingup', 'tdmpc2', 'default', 'seed-1', 'checkpoints');
    const files = readdirSync(dir);
    expect(files).toContain('latest.ckpt');
    const step = Number(files.find((f) => /^step-\d+\.ckpt$/.test(f))!.match(/\d+/)![0]);
    expect(step).toBeGreaterThanOrEqual(200);
    // ... and the run continues from it.
    const resumed = await runTraining([`resume=${path.join(dir, 'latest.ckpt')}`, `steps=${step + 100}`, 'progress=false', 'eval_episodes=0']);
    expect(resumed.summary!.envSteps).toBe(step + 100);
  });
});
