// Actor crashes with real threads. While two actors are killed 20 times mid-episode (alternately
// terminated at an arbitrary instruction and made to throw halfway through a vector step), the test
// thread samples the shared replay concurrently with actors and learner and checks every slice:
// committed, finite, one episode, no final observation inside. After the run every committed slot is
// still there, and the slots add up to the counted env steps (plus the steps a dead actor had written
// but not yet counted, which were redone). A second run wraps tiny rings with reanalysis writing
// expert values back on every update, so slices also race slots being rewritten.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runTraining } from '../src/trainer/run.js';
import { RngStream } from '../src/engine/rng.js';
import { allocateBatch, FLAG_LAST, type ReplayBatch, type ReplayBuffer } from '../src/replay/replay-buffer.js';
import type { ThreadedHandle } from '../src/runtime/run-threaded.js';
import { TIME_SCALE, TINY_THREADS, workDir } from './fixtures/runtime/args.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class SliceChecker {
  readonly batch: ReplayBatch;
  readonly rng = new RngStream(12345);
  slices = 0;
  readonly violations: string[] = [];

  constructor(readonly replay: ReplayBuffer, readonly H: number) {
    this.batch = allocateBatch(32, H, replay.shape.obsDim, replay.shape.actionDim);
  }

  check(): void {
    const { replay, batch, H } = this;
    if (!replay.canSample(H)) return;
    replay.sample(batch, this.rng);
    const { ringCapacity: C, obsDim: O, actionDim: A } = replay.shape;
    const d = replay.data;
    const B = batch.B;
    for (let b = 0; b < B; b++) {
      this.slices++;
      const bad = (what: string) => this.violations.push(`slice ${b} at slot ${batch.start[b]}: ${what}`);
      for (let t = 0; t <= H; t++) {
        const g = batch.generation[t * B + b];
        if (g <= 0 || g & 1) bad(`step ${t} copied from an uncommitted slot (generation ${g})`);
        for (let k = 0; k < O; k++) if (!Number.isFinite(batch.obs[(t * B + b) * O + k])) { bad(`obs ${t} not finite`); break; }
        if (t < H) {
          for (let k = 0; k < A; k++) if (!Number.isFinite(batch.action[(t * B + b) * A + k])) { bad(`action ${t} not finite (a final observation inside?)`); break; }
          if (!Number.isFinite(batch.reward[t * B + b])) bad(`reward ${t} not finite`);
        }
      }
      // Episode ids and flags, read now from the ring: only judged where the slot is unchanged.
      const r = Math.floor(batch.start[b] / C);
      const p0 = batch.start[b] - r * C;
      let ep: number | null = null;
      for (let t = 0; t <= H; t++) {
        const slot = r * C + ((p0 + t) % C);
        const e = d.episode[slot];
        const f = d.flags[slot];
        if (Atomics.load(d.generation, slot) !== batch.generation[t * B + b]) continue;
        if (ep !== null && e !== ep) bad(`crosses from episode ${ep} into ${e} at step ${t}`);
        ep = e;
        if (t < H && f & FLAG_LAST) bad(`final observation at step ${t} < H`);
      }
    }
  }
}

async function until(cond: () => boolean, checker: SliceChecker, what: string, timeoutMs = 60_000 * TIME_SCALE): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    checker.check();
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Kills actors `kills` times (alternating terminate / throw), each after the actor made progress. */
async function chaos(run: ThreadedHandle, kills: number, checker: SliceChecker, N: number): Promise<void> {
  const { supervisor, header } = run;
  for (let k = 0; k < kills; k++) {
    const a = k % 2;
    const before = header.insertedBy(a);
    await until(() => header.insertedBy(a) >= before + 3 * N, checker, `actor ${a} to make progress`);
    const restarts = supervisor.restarts()[a];
    if (k % 4 < 2) await supervisor.killActor(a);
    else await supervisor.faultActor(a);
    await until(() => supervisor.restarts()[a] > restarts, checker, `actor ${a} to restart`);
  }
  const after = [header.insertedBy(0), header.insertedBy(1)];
  await until(() => header.insertedBy(0) > after[0] && header.insertedBy(1) > after[1], checker, 'both actors to run again');
}

describe('actor crashes keep the replay consistent', () => {
  it('20 kills mid-episode: slices stay valid, nothing committed is lost, the run carries on', async () => {
    const N = 2;
    let run: ThreadedHandle | null = null;
    let checker: SliceChecker | null = null;
    let finished = false;
    let failure: unknown = null;
    const res = await runTraining([...TINY_THREADS, 'actors=2', `num_envs=${N}`, 'steps=200000', 'eval_episodes=0', 'checkpoint_freq=0', `work_dir=${workDir('chaos')}`], {
      onThreadsStart: (h) => {
        run = h;
        checker = new SliceChecker(h.replay, 3);
        chaos(h, 20, checker, N).then(() => { finished = true; }, (err) => { failure = err; finished = true; });
      },
      shouldStop: () => finished,
    });
    expect(failure).toBeNull();
    const h = run as unknown as ThreadedHandle;
    const c = checker as unknown as SliceChecker;
    expect(res.summary!.restarts).toEqual([10, 10]);
    expect(c.slices).toBeGreaterThan(1000);
    expect(c.violations.slice(0, 5)).toEqual([]);

    // Nothing committed is lost: every position below each ring's head is a committed, finite slot
    // (no ring wrapped in this run), episode ids only grow, and the slots add up to the counted steps.
    const { ringCapacity: C, obsDim: O, numRings } = h.replay.shape;
    const d = h.replay.data;
    let transitions = 0;
    let dropped = 0;
    for (let r = 0; r < numRings; r++) {
      const head = h.replay.head(r);
      expect(head).toBeLessThanOrEqual(C);
      let prevEp = -1;
      for (let p = 0; p < head; p++) {
        const slot = r * C + p;
        expect(d.generation[slot] > 0 && d.generation[slot] % 2 === 0, `ring ${r} position ${p}`).toBe(true);
        expect(Number.isFinite(d.obs[slot * O])).toBe(true);
        const ep = d.episode[slot];
        expect(ep).toBeGreaterThanOrEqual(prevEp);
        if (ep !== prevEp && p > 0 && !(d.flags[slot - 1] & FLAG_LAST)) dropped++; // previous episode ended without its final observation
        prevEp = ep;
        if (!(d.flags[slot] & FLAG_LAST)) transitions++;
      }
    }
    const inserts = h.header.inserts();
    expect(transitions).toBeGreaterThanOrEqual(inserts);
    expect(transitions - inserts).toBeLessThanOrEqual(20 * N);
    expect(dropped).toBeGreaterThanOrEqual(10); // the killed actors' unfinished episodes
    // The learner kept training on it all: updates match the budget within the band.
    expect(Math.abs(res.summary!.updates - h.limiter.exactTarget(inserts))).toBeLessThanOrEqual(h.limiter.band + 2 * N);
    // Crashes are visible in the metrics.
    const text = await h.metrics.scrape();
    expect(text).toMatch(/tdmpc_actor_restarts_total\{actor="0"\} 10/);
    expect(text).toMatch(/tdmpc_actor_restarts_total\{actor="1"\} 10/);
    expect(text).toMatch(/tdmpc_actor_crashes_total\{actor="0",reason="exit"\} 5/);
    expect(text).toMatch(/tdmpc_actor_crashes_total\{actor="1",reason="error"\} 5/);
    // ... and in the run's log.
    const events = readFileSync(path.join(res.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((m) => m.event === 'actor_crash');
    expect(events.length).toBe(20);
    expect(events[0].message).toMatch(/actor 0 .* (died|threw).*restarting in \d+ ms/);
  }, 180_000 * TIME_SCALE);

  it('wrapping rings with reanalysis write-back: slices never include a slot being rewritten', async () => {
    let run: ThreadedHandle | null = null;
    let checker: SliceChecker | null = null;
    let finished = false;
    let failure: unknown = null;
    const res = await runTraining([
      ...TINY_THREADS, 'algo=bmpc', 'model_size=null', 'latent_dim=16', 'enc_dim=32', 'mlp_dim=32', 'num_q=2',
      // Reanalysis after every update (the most write-backs); on the slow JS engine of one slice, so
      // the rings still wrap within the wait budget.
      'reanalyze_interval=1', `reanalyze_batch_size=${TIME_SCALE > 1 ? 1 : 4}`, 'actors=2', 'num_envs=2', 'buffer_size=240',
      'steps=200000', 'eval_episodes=0', 'checkpoint_freq=0', `work_dir=${workDir('wrap')}`,
    ], {
      onThreadsStart: (h) => {
        run = h;
        checker = new SliceChecker(h.replay, 3);
        (async () => {
          await chaos(h, 4, checker!, 2);
          const target = h.replay.totalInserted() + 4 * 240; // every ring (60 slots) wraps 4 more times
          await until(() => h.replay.totalInserted() >= target, checker!, 'the rings to wrap');
        })().then(() => { finished = true; }, (err) => { failure = err; finished = true; });
      },
      shouldStop: () => finished,
    });
    expect(failure).toBeNull();
    const c = checker as unknown as SliceChecker;
    expect(c.slices).toBeGreaterThan(1000);
    expect(c.violations.slice(0, 5)).toEqual([]);
    const h = run as unknown as ThreadedHandle;
    expect(h.replay.totalInserted()).toBeGreaterThanOrEqual(4 * 240);
    const text = await h.metrics.scrape();
    expect(Number(text.match(/tdmpc_reanalyzed_slots_total (\d+)/)![1])).toBeGreaterThan(0);
    expect(res.summary!.restarts).toEqual([2, 2]);
  }, 120_000 * TIME_SCALE);
});
