// Bad input stops a threaded run before it starts, with a message naming the setting and the fix;
// a learner failure stops the run cleanly and names the last checkpoint to resume from.
import { describe, expect, it } from 'vitest';
import net from 'node:net';
import os from 'node:os';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { runTraining } from '../src/trainer/run.js';
import { ConfigError } from '../src/errors.js';
import { LearnerFailure } from '../src/runtime/errors.js';
import type { ThreadedHandle } from '../src/runtime/run-threaded.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';

describe('threaded runtime: bad input and failures', () => {
  it('rejects more actors than cores', async () => {
    const cores = os.availableParallelism();
    const work = workDir('err-cores');
    await expect(runTraining([...TINY_THREADS, `actors=${cores + 1}`, `work_dir=${work}`])).rejects.toThrow(ConfigError);
    await expect(runTraining([...TINY_THREADS, `actors=${cores + 1}`, `work_dir=${work}`])).rejects.toThrow(new RegExp(`actors=${cores + 1} is more than the ${cores} cores`));
    expect(existsSync(path.join(work, 'cartpole-swingup'))).toBe(false);
  });

  it('rejects a replay too small for the batch', async () => {
    const work = workDir('err-replay');
    await expect(runTraining([...TINY_THREADS, 'buffer_size=12', 'batch_size=16', `work_dir=${work}`])).rejects.toThrow(/batch_size=16 needs a replay of at least 16 slots, but it holds 12: its size is capped by buffer_size=12; lower batch_size to at most 12, or raise buffer_size to at least 16/);
    await expect(runTraining([...TINY_THREADS, 'buffer_size=20', 'batch_size=4', 'actors=2', 'num_envs=2', 'horizon=3', `work_dir=${work}`])).rejects.toThrow(/5 slots per ring, too few/);
    expect(existsSync(path.join(work, 'cartpole-swingup'))).toBe(false);
  });

  it('rejects a metrics port in use before starting anything, in both runtimes', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const work = workDir('err-port');
    try {
      for (const runtime of ['runtime=threads', 'runtime=sync']) {
        const args = [...TINY_THREADS.filter((a) => !a.startsWith('metrics.port') && a !== 'runtime=threads'), runtime, `metrics.port=${port}`, `work_dir=${work}`];
        await expect(runTraining(args)).rejects.toThrow(ConfigError);
        await expect(runTraining(args)).rejects.toThrow(new RegExp(`metrics.port ${port} on 127.0.0.1 is already in use.*metrics=false`));
        expect(existsSync(path.join(work, 'cartpole-swingup'))).toBe(false);
      }
    } finally {
      blocker.close();
    }
  });

  it('a learner failure stops the run and names the last checkpoint', async () => {
    let run: ThreadedHandle | null = null;
    let faulted = false;
    const promise = runTraining([...TINY_THREADS, 'steps=100000', 'checkpoint_freq=200', `work_dir=${workDir('err-learner')}`], {
      onThreadsStart: (h) => { run = h; },
      shouldStop: () => {
        // After the first periodic checkpoint, make the learner throw.
        if (!faulted && run && run.header.inserts() > 260) { faulted = true; void run.supervisor.faultLearner(); }
        return false;
      },
    });
    await expect(promise).rejects.toThrow(LearnerFailure);
    await expect(promise).rejects.toThrow(/learner failed: .*injected fault.*the run stopped; the last checkpoint is .*step-\d+\.ckpt \(continue with resume=/);
    // The named checkpoint is the newest periodic one on disk (which one depends on how far the
    // learner got before the injected fault reached it: step-2xx or, on a fast host, step-3xx).
    const message = await promise.then(() => '', (e: Error) => e.message);
    const named = /the last checkpoint is (\S+step-(\d+)\.ckpt)/.exec(message)!;
    expect(existsSync(named[1]!)).toBe(true);
    const steps = readdirSync(path.dirname(named[1]!)).flatMap((f) => /^step-(\d+)\.ckpt$/.exec(f)?.[1] ?? []).map(Number);
    expect(Math.max(...steps)).toBe(Number(named[2]));
    expect(Number(named[2])).toBeGreaterThanOrEqual(200);
  });
});
