// Resuming with more steps (steps= may change on resume): the replay is sized by the run's length,
// so it grows to the new length and keeps everything the checkpoint held, in both runtimes. And a
// replay that cannot hold one batch is refused before any work, naming the cap that binds.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runTraining } from '../src/trainer/run.js';
import { readCheckpoint, type CheckpointContents } from '../src/checkpoint/checkpoint-file.js';
import { ConfigError } from '../src/errors.js';
import { loadConfig } from '../src/config/load.js';
import { checkReplayHoldsBatch, deriveConfig } from '../src/config/derive.js';
import { RateLimiter } from '../src/runtime/rate-limiter.js';
import { FLAG_LAST } from '../src/replay/replay-buffer.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';

const TINY_SYNC = [
  'task=cartpole-swingup', 'model_size=null', 'enc_dim=32', 'mlp_dim=32', 'latent_dim=16', 'num_q=2',
  'num_samples=32', 'num_elites=8', 'num_pi_trajs=4', 'iterations=2', 'batch_size=16',
  'episode_length=50', 'seed_steps=100', 'pretrain_updates=10', 'eval_episodes=0', 'log_freq=100',
  'checkpoint_freq=0', 'progress=false', 'learner_threads=1', 'runtime=sync', 'seed=2', 'metrics.port=0',
];
// cartpole with episode_length=50: a run of S steps writes S + S/50 slots (one final observation per episode).
const O = 5;
const A = 1;
const SLOT_WIDTHS: Record<string, number> = { obs: O, action: A, reward: 1, expertMean: A, expertStd: A, flags: 1, episode: 1, version: 1, generation: 1 };

/** Ring 0 of a checkpoint's replay (these runs have one ring): capacity, head, and each column's first n slots. */
function ring0(c: CheckpointContents) {
  const header = c.sections['replay.header'] as Int32Array;
  const column = (name: string, n: number) => Array.from(c.sections[`replay.${name}`].subarray(0, n * SLOT_WIDTHS[name]) as Float32Array);
  return { capacity: c.sections['replay.flags'].length, head: header[0], column };
}

describe('resume with more steps', () => {
  it('sync: continues to the new steps with a grown replay holding the old and the new data', async () => {
    const first = await runTraining([...TINY_SYNC, 'steps=300', `work_dir=${workDir('grow-sync')}`]);
    expect(first.state.updates).toBe(new RateLimiter({ utdRatio: 1, numEnvs: 1, seedSteps: 100, pretrainUpdates: 10, errorBand: 0, totalSteps: 300 }).finalUpdates);
    const ckpt1 = path.join(first.dir, 'checkpoints', 'final.ckpt');
    const old = ring0(readCheckpoint(ckpt1));
    expect(old.capacity).toBe(300 + 6 + 2); // sized by steps=300 (+2 slots of margin per env)
    expect(old.head).toBe(306);

    const second = await runTraining([`resume=${ckpt1}`, 'steps=500', 'progress=false']);
    expect(second.state.step).toBe(500);
    // The synchronous token arithmetic of an uninterrupted 500-step run: 10 pretraining + 400 updates.
    expect(second.state.updates).toBe(new RateLimiter({ utdRatio: 1, numEnvs: 1, seedSteps: 100, pretrainUpdates: 10, errorBand: 0, totalSteps: 500 }).finalUpdates);
    expect(second.state.updates).toBe(410);
    const grown = ring0(readCheckpoint(path.join(second.dir, 'checkpoints', 'final.ckpt')));
    expect(grown.capacity).toBe(500 + 10 + 2);
    expect(grown.head).toBe(510); // nothing overwritten: head <= capacity
    for (const name of Object.keys(SLOT_WIDTHS)) expect(grown.column(name, 306), name).toEqual(old.column(name, 306));
    const obs = grown.column('obs', 510);
    expect(obs.every(Number.isFinite)).toBe(true); // the 204 new slots were written after the old ones
    const flags = grown.column('flags', 510);
    expect(flags.filter((f) => f & FLAG_LAST).length).toBe(10);
    const episodes = grown.column('episode', 510);
    expect(episodes.every((e, k) => k === 0 || e >= episodes[k - 1])).toBe(true); // in order, ids unique
  });

  it('threads: the replay grows to the new steps and nothing the checkpoint held is overwritten', async () => {
    const args = [...TINY_THREADS, 'eval_episodes=0', 'checkpoint_freq=0', 'actors=1', 'seed=4'];
    const first = await runTraining([...args, 'steps=300', `work_dir=${workDir('grow-threads')}`]);
    const ckpt1 = first.summary!.checkpoint!;
    expect(path.basename(ckpt1)).toBe('final.ckpt');
    const old = ring0(readCheckpoint(ckpt1));
    expect(old.capacity).toBe(308);
    expect(old.head).toBe(306);

    const second = await runTraining([`resume=${ckpt1}`, 'steps=600', 'progress=false']);
    const s2 = second.summary!;
    expect(s2.envSteps).toBe(600);
    expect(s2.updates).toBe(new RateLimiter({ utdRatio: 1, numEnvs: 1, seedSteps: 100, pretrainUpdates: 20, errorBand: 16, totalSteps: 600 }).finalUpdates);
    const grown = ring0(readCheckpoint(s2.checkpoint!));
    // Capped at the checkpoint's 308 slots the ring would have wrapped over the first 304 slots.
    expect(grown.capacity).toBe(600 + 12 + 2);
    expect(grown.head).toBe(612);
    for (const name of Object.keys(SLOT_WIDTHS)) expect(grown.column(name, 306), name).toEqual(old.column(name, 306));
    expect(grown.column('obs', 612).every(Number.isFinite)).toBe(true);
  });
});

describe('a replay too small for the batch', () => {
  it('sync: refused before any work, naming steps (not buffer_size) when steps caps the replay', async () => {
    const work = workDir('batch-sync');
    const run = (...extra: string[]) => runTraining([...TINY_SYNC, `work_dir=${work}`, ...extra]);
    // steps=3000 writes 3062 slots (60 final observations, 2 of margin): buffer_size=5000 is not the cap.
    const bySteps = run('batch_size=4000', 'buffer_size=5000', 'steps=3000');
    await expect(bySteps).rejects.toThrow(ConfigError);
    await expect(bySteps).rejects.toThrow(/batch_size=4000 needs a replay of at least 4000 slots, but it holds 3062: its size is capped by steps=3000 .*not by buffer_size=5000, so raising buffer_size alone does not help; lower batch_size to at most 3062, or raise steps to at least 3919$/);
    // The suggested steps are the fewest that fit.
    const check = (steps: number) => {
      const cfg = loadConfig([...TINY_SYNC, 'batch_size=4000', 'buffer_size=5000', `steps=${steps}`]);
      const derived = deriveConfig(cfg, { name: cfg.task, obsDim: O, actionDim: A, episodeLength: 50, episodic: false });
      checkReplayHoldsBatch(cfg, derived, derived.bufferSize);
    };
    expect(() => check(3918)).toThrow(/raise steps to at least 3919$/);
    expect(() => check(3919)).not.toThrow();
    await expect(run('batch_size=16', 'buffer_size=12', 'steps=300')).rejects.toThrow(/but it holds 12: its size is capped by buffer_size=12; lower batch_size to at most 12, or raise buffer_size to at least 16$/);
    // steps=101: one step past seeding (steps=100 would be refused first, as a run without updates).
    await expect(run('batch_size=256', 'buffer_size=50', 'steps=101')).rejects.toThrow(/raise buffer_size to at least 256 and steps to at least 249$/);
    expect(existsSync(path.join(work, 'cartpole-swingup'))).toBe(false);
  });

  it('threads: the same check and message, per actor shard', async () => {
    const work = workDir('batch-threads');
    const run = (...extra: string[]) => runTraining([...TINY_THREADS, 'eval_episodes=0', `work_dir=${work}`, ...extra]);
    await expect(run('batch_size=4000', 'buffer_size=5000', 'steps=3000')).rejects.toThrow(/batch_size=4000 needs a replay of at least 4000 slots, but it holds 3062: its size is capped by steps=3000 .*lower batch_size to at most 3062, or raise steps to at least 3919$/);
    // Two actors: each shard may hold the whole run, so steps=1000 gives 2 x 1022 slots.
    await expect(run('actors=2', 'batch_size=4000', 'steps=1000')).rejects.toThrow(/but it holds 2044: .*in each of the 2 actors' shards.*raise steps to at least 1958$/);
    expect(existsSync(path.join(work, 'cartpole-swingup'))).toBe(false);
  });
});
