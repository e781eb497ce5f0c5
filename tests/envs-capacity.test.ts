// Environments per thread: every thread's MuJoCo module (32-bit WebAssembly) stops at 2 GiB and each
// dm_control environment carries a 13-15 MB arena, so about 150 fit. A run or evaluation asking
// for more used to fail in the middle of building them ("cannot load MJCF model 'cartpole.xml':
// ... Could not allocate memory"), in the threaded runtime after the run folder existed, with the
// actor restarted six times. Now it is refused before any work, naming the keys and the count that fits.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Physics, VectorEnv, loadMujocoModule, makeTask } from '../src/envs/index.js';
import { checkEnvsFitThreads, envBytes, envsPerThread } from '../src/envs/capacity.js';
import { runTraining } from '../src/trainer/run.js';
import { evaluateCheckpoint } from '../src/trainer/evaluate-checkpoint.js';
import { ConfigError, EnvError } from '../src/errors.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';

describe('environments per thread', () => {
  it('the estimate is below what a module really holds, and running out is named', async () => {
    const spec = makeTask('cartpole-swingup');
    const physics = Physics.fromSource(await loadMujocoModule(), spec.model());
    const fits = envsPerThread(physics);
    expect(envBytes(physics)).toBeGreaterThan(13e6); // MuJoCo's arena for this model
    physics.dispose();
    expect(fits).toBeGreaterThan(100);
    // As many as the estimate allows are built (and freed: the module's memory is reused below).
    const env = await VectorEnv.create(spec, fits);
    expect(env.numEnvs).toBe(fits);
    env.dispose();
    // Far more than fit: the failure says how many were built (more than the estimate).
    const err = await VectorEnv.create(spec, 400).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(EnvError);
    const message = (err as Error).message;
    expect(message).toMatch(/^400 cartpole-swingup environments do not fit in this thread's MuJoCo WebAssembly module \(at most 2 GiB; \d+ were built when it ran out\): build fewer per thread$/);
    const built = Number(/(\d+) were built/.exec(message)![1]);
    expect(built).toBeGreaterThan(fits);
    expect(built).toBeLessThan(400);
  });

  it('checkEnvsFitThreads names the largest group, its keys and what to lower', async () => {
    const spec = makeTask('cartpole-swingup');
    await expect(checkEnvsFitThreads(spec, [{ count: 10, source: 'num_envs=10', fix: 'x' }])).resolves.toBeUndefined();
    await expect(checkEnvsFitThreads(spec, [
      { count: 4, source: 'num_envs=4', fix: 'lower num_envs' },
      { count: 200, source: 'eval_episodes=200', fix: 'lower eval_episodes' },
    ])).rejects.toThrow(/^eval_episodes=200 cartpole-swingup environments in one thread need about 26\d\d\.\d MiB of MuJoCo memory \(13\.\d MiB each, mostly MuJoCo's arena\), but one thread's MuJoCo WebAssembly module grows to at most 2 GiB: about 1\d\d of them fit; lower eval_episodes$/);
  });

  it('training in either runtime and tdmpc eval refuse too many before any work', async () => {
    const sync = [...TINY_THREADS.filter((a) => a !== 'runtime=threads' && a !== 'metrics.port=0'), 'runtime=sync'];
    for (const [args, message] of [
      [[...sync, 'num_envs=150', 'eval_episodes=10'], /^num_envs=150 \+ eval_episodes=10 cartpole-swingup environments in one thread .* lower num_envs or eval_episodes/],
      [[...TINY_THREADS, 'num_envs=300', 'seed_steps=1200', 'steps=1300'], /^num_envs=300 cartpole-swingup environments .* lower num_envs \(each actor builds num_envs in its own thread: more actors= hold more\)$/],
      [[...TINY_THREADS, 'eval_episodes=300'], /^eval_episodes=300 cartpole-swingup .* lower eval_episodes \(the evaluation thread builds one environment per episode\)$/],
    ] as const) {
      const work = workDir('capacity');
      const run = runTraining([...args, `work_dir=${work}`]);
      await expect(run).rejects.toThrow(ConfigError);
      await expect(run).rejects.toThrow(message);
      expect(existsSync(path.join(work, 'cartpole-swingup'))).toBe(false); // no run folder
    }
    // Threads: 145 envs in each of its two threads (actor, evaluation) fit where the sync loop's one thread refuses them.
    const work = workDir('capacity-ok');
    const ok = await runTraining([...TINY_THREADS, 'num_envs=145', 'eval_episodes=145', 'seed_steps=580', 'steps=1450', 'eval_freq=10000', `work_dir=${work}`]);
    expect(ok.state.step).toBe(1450);
    await expect(evaluateCheckpoint(path.join(ok.dir, 'checkpoints', 'final.ckpt'), { episodes: 200 })).rejects.toThrow(
      /^episodes=200 cartpole-swingup environments in one thread .* lower episodes= and evaluate again with another seed= for more$/);
  });
});
