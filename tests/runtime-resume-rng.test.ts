// A resumed threaded run must record new data: its actors' random streams (environment reset
// seeds, seeding random actions, planner noise) continue with fresh draws instead of replaying the
// stopped run's. Real threads and files: a tiny run is stopped during seeding, resumed to its end,
// and the replay of the final checkpoint is compared with the replay of the stop checkpoint.
import { describe, expect, it } from 'vitest';
import { readCheckpoint, writeCheckpoint } from '../src/checkpoint/checkpoint-file.js';
import { CheckpointError } from '../src/errors.js';
import { runTraining } from '../src/trainer/run.js';
import { actorStreamSeeds } from '../actors/actor.js';
import type { ThreadedHandle } from '../src/runtime/run-threaded.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';

const FLAG_LAST = 2;

/** The replay sections of a checkpoint, with the slots written to each ring (head). */
function replayOf(file: string) {
  const { sections } = readCheckpoint(file);
  const flags = sections['replay.flags'] as Uint8Array;
  const header = sections['replay.header'] as Int32Array;
  const rings = header.length / 4; // HEADER_WORDS per ring, head first
  return {
    obs: sections['replay.obs'] as Float32Array,
    action: sections['replay.action'] as Float32Array,
    flags,
    capacity: flags.length / rings,
    heads: Array.from({ length: rings }, (_, r) => header[r * 4]),
  };
}

/** Bytes of rows `rows` (consecutive) of width `w` starting at row `row`, as a map key. */
const key = (a: Float32Array, row: number, w: number, rows = 1) => Buffer.from(a.buffer, a.byteOffset + row * w * 4, rows * w * 4).toString('hex');

describe('threaded resume draws fresh random numbers', () => {
  it('the resumed run repeats no observation or action sequence of the stopped run', async () => {
    const work = workDir('resume-rng');
    let run: ThreadedHandle | null = null;
    // Seeding lasts 200 of 300 steps, so the resumed run both draws random actions and plans.
    const args = [...TINY_THREADS, 'steps=300', 'seed_steps=200', 'num_envs=2', 'eval_episodes=0', 'checkpoint_freq=0', `work_dir=${work}`];
    const first = await runTraining(args, {
      // Park the actors early in seeding (a stop request is only seen on a 200 ms supervision tick,
      // by when random-action steps would have run far past this point).
      onThreadsStart: async (h) => {
        run = h;
        while (h.header.inserts() < 40) await new Promise((r) => setTimeout(r, 1));
        await h.supervisor.pauseActors();
      },
      shouldStop: () => run !== null,
    });
    const s1 = first.summary!;
    expect(s1.stopped).toBe(true);
    expect(s1.envSteps).toBeGreaterThanOrEqual(40);
    expect(s1.envSteps).toBeLessThan(200);

    const second = await runTraining([`resume=${s1.checkpoint}`, 'progress=false']);
    expect(second.summary!.envSteps).toBe(300);

    const before = replayOf(s1.checkpoint!);
    const after = replayOf(second.summary!.checkpoint!);
    const O = before.obs.length / before.flags.length;
    const A = before.action.length / before.flags.length;
    // Every observation, and every pair of consecutive actions (one float each for cartpole, so a
    // single value could match by chance), of the stopped run.
    const seenObs = new Set<string>();
    const seenActions = new Set<string>();
    let preSlots = 0;
    for (let r = 0; r < before.heads.length; r++) {
      expect(before.heads[r]).toBeLessThanOrEqual(before.capacity); // no wrap: slot = position
      for (let p = 0; p < before.heads[r]; p++) {
        const k = r * before.capacity + p;
        seenObs.add(key(before.obs, k, O));
        if (p + 1 < before.heads[r] && !(before.flags[k] & FLAG_LAST) && !(before.flags[k + 1] & FLAG_LAST)) seenActions.add(key(before.action, k, A, 2));
        preSlots++;
      }
    }
    let postSlots = 0;
    let postPairs = 0;
    const repeatedObs: number[] = [];
    const repeatedActions: number[] = [];
    for (let r = 0; r < after.heads.length; r++) {
      expect(after.heads[r]).toBeLessThanOrEqual(after.capacity);
      for (let p = before.heads[r]; p < after.heads[r]; p++) {
        const k = r * after.capacity + p;
        postSlots++;
        if (seenObs.has(key(after.obs, k, O))) repeatedObs.push(k);
        if (p + 1 < after.heads[r] && !(after.flags[k] & FLAG_LAST) && !(after.flags[k + 1] & FLAG_LAST)) {
          postPairs++;
          if (seenActions.has(key(after.action, k, A, 2))) repeatedActions.push(k);
        }
      }
    }
    expect(preSlots).toBeGreaterThanOrEqual(40);
    expect(postSlots).toBeGreaterThan(300 - s1.envSteps); // the transitions plus the episodes' LAST slots
    // Most of the resumed run's steps start a checked pair (not those that end an episode); the stop
    // point varies with the machine's load, so the bound follows it.
    expect(postPairs).toBeGreaterThan(0.8 * (300 - s1.envSteps));
    expect(repeatedObs, 'slots of the resumed run whose observation the stopped run already recorded').toEqual([]);
    expect(repeatedActions, 'slots of the resumed run that start an action pair the stopped run already drew').toEqual([]);

    // The count of earlier starts travels in the checkpoints: 0 for the first start, 1 after a resume.
    const trainerOf = (file: string) => readCheckpoint(file).meta.trainer as { resumes?: number };
    expect(trainerOf(s1.checkpoint!).resumes).toBe(0);
    expect(trainerOf(second.summary!.checkpoint!).resumes).toBe(1);
    // A checkpoint written before the count existed is a first start; a corrupt count is refused.
    const edited = (resumes: number | undefined, name: string): string => {
      const c = readCheckpoint(s1.checkpoint!);
      (c.meta.trainer as { resumes?: number }).resumes = resumes;
      const file = `${s1.checkpoint}.${name}`;
      writeCheckpoint(file, c);
      return file;
    };
    const old = edited(undefined, 'old');
    const third = await runTraining([`resume=${old}`, `steps=${s1.envSteps + 20}`, 'progress=false']);
    expect(trainerOf(third.summary!.checkpoint!).resumes).toBe(1);
    await expect(runTraining([`resume=${edited(-1, 'bad')}`, 'progress=false'])).rejects.toThrow(CheckpointError);
  });

  it('every actor thread of every start of a run has its own streams', () => {
    // (actor slot, resumes, incarnation): a thread of actor a, started after `resumes` resume=s of
    // the run, restarted `incarnation` times after crashes. No two share any seed, and no seed is
    // another thread's env seed range (env i of a VectorEnv uses its base seed + i).
    const numEnvs = 4;
    const seen = new Map<number, string>();
    for (const seed of [1, 2]) {
      for (let actor = 0; actor < 4; actor++) {
        for (let resumes = 0; resumes < 6; resumes++) {
          for (let incarnation = 0; incarnation < 6; incarnation++) {
            const s = actorStreamSeeds(seed, actor, resumes, incarnation);
            const who = `seed ${seed} actor ${actor} resumes ${resumes} incarnation ${incarnation}`;
            const mine = [...Array.from({ length: numEnvs }, (_, i) => (s.env + i) >>> 0), s.randomActions, s.planner, s.policy];
            for (const v of mine) {
              expect(seen.get(v), `${who}: seed ${v}`).toBeUndefined();
              seen.set(v, who);
            }
          }
        }
      }
    }
  });
});
