// UTD control with real threads: a threaded run ends with exactly the synchronous loop's update
// count for the same steps, and its realized updates per env step over the learning phase is
// within 2% of utd_ratio, for utd 0.5, 1 and 4 (and with 2 actors x 2 envs). Pure checks of the
// rate limiter's arithmetic come first.
import { describe, expect, it } from 'vitest';
import type { Config } from '../src/config/schema.js';
import { idleThreadsMayHelp } from '../src/config/derive.js';
import { loadNativeAddon } from '../src/engine/native-engine.js';
import { runTraining } from '../src/trainer/run.js';
import { RateLimiter, UpdateLedger } from '../src/runtime/rate-limiter.js';
import { UpdateTokens } from '../src/trainer/update-tokens.js';
import { utdReport } from '../src/trainer/utd-report.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';

/** Guest seats need the native engine and a free core per waiting thread (idleThreadsMayHelp). */
function helpingExpected(cfg: Config): boolean {
  return process.env.TDMPC_ENGINE !== 'js' && loadNativeAddon() !== null && idleThreadsMayHelp(cfg);
}

/** The synchronous loop's update count, by its own token arithmetic (online-trainer.ts). */
function syncCount(steps: number, N: number, seedSteps: number, pretrain: number, utd: number): number {
  const tokens = new UpdateTokens(utd);
  let updates = 0;
  let pretrained = false;
  for (let step = 0; step < steps; step += N) {
    if (step >= seedSteps) {
      updates += tokens.add(N);
      if (!pretrained) { pretrained = true; updates += pretrain; }
    }
  }
  return updates;
}

describe('rate limiter arithmetic', () => {
  it("exact target equals the synchronous loop's count; the ledger reaches it", () => {
    for (const utd of [0.1, 0.5, 1, 1.5, 4]) {
      for (const N of [1, 3, 4]) {
        const total = Math.ceil(1000 / N) * N;
        const lim = new RateLimiter({ utdRatio: utd, numEnvs: N, seedSteps: 101, pretrainUpdates: 7, errorBand: 8, totalSteps: total });
        expect(lim.finalUpdates, `utd ${utd} N ${N}`).toBe(syncCount(total, N, 101, 7, utd));
        const ledger = new UpdateLedger(lim);
        ledger.sync(lim.learnStart);
        expect(ledger.mayUpdate(0)).toBe(false); // min size: nothing before the first learning step
        for (let I = lim.learnStart; I <= total; I += N) ledger.sync(I);
        expect(ledger.earned).toBe(lim.finalUpdates);
        expect(Math.abs(lim.approxTarget(total) - lim.finalUpdates)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('bounds both sides by the band and never lets the learner pass the run total', () => {
    const lim = new RateLimiter({ utdRatio: 1, numEnvs: 1, seedSteps: 10, pretrainUpdates: 0, errorBand: 4, totalSteps: 100 });
    expect(lim.band).toBe(4);
    expect(lim.mayInsert(5, 0)).toBe(true); // seeding: never blocked
    expect(lim.mayInsert(14, 0)).toBe(true); // backlog 4 = band
    expect(lim.mayInsert(15, 0)).toBe(false); // backlog 5 > band: actors wait
    const ledger = new UpdateLedger(lim);
    ledger.sync(12); // 2 learning steps -> 2 updates earned
    expect(ledger.earned).toBe(2);
    expect(ledger.mayUpdate(5)).toBe(true); // 6 <= 2 + 4: learner may lead by the band
    expect(ledger.mayUpdate(6)).toBe(false);
    ledger.sync(100);
    expect(ledger.mayUpdate(89)).toBe(true);
    expect(ledger.mayUpdate(90)).toBe(false); // total = 90
    // A band below one vector step's worth is raised (utd 4 x 8 envs).
    expect(new RateLimiter({ utdRatio: 4, numEnvs: 8, seedSteps: 0, pretrainUpdates: 0, errorBand: 1, totalSteps: 80 }).band).toBe(32);
  });
});

describe('the end-of-run UTD report (both runtimes)', () => {
  it('is the ratio over the learning steps with the burst aside, or says where a stop fell', () => {
    // Seeding ends at step 100, then a burst of 20 and utd 0.5: 120 updates are owed at step 300.
    const limiter = new RateLimiter({ utdRatio: 0.5, numEnvs: 1, seedSteps: 100, pretrainUpdates: 20, errorBand: 16, totalSteps: 300 });
    expect(utdReport(limiter, 300, 120)).toEqual(
      { utd: 0.5, line: 'realized utd 0.5000 over the 200 learning steps, target 0.5; 120 expected' });
    // A run stopped inside a step's updates shows the shortfall against the expected count.
    expect(utdReport(limiter, 300, 110).line).toBe(
      'realized utd 0.4500 over the 200 learning steps, target 0.5; 120 expected');
    expect(utdReport(limiter, 100, 0)).toEqual(
      { utd: 0, line: 'stopped while seeding: 100 of 100 seed steps' });
    expect(utdReport(limiter, 101, 7)).toEqual(
      { utd: 0, line: 'stopped in the pretraining burst: 7 of 20 pretraining updates' });
  });
});

describe('threaded runs keep the UTD ratio', () => {
  for (const [utd, actors, envs] of [[0.5, 1, 1], [1, 2, 2], [4, 1, 1]] as const) {
    it(`utd ${utd}, ${actors} actor(s) x ${envs} env(s)`, async () => {
      const steps = 600;
      const res = await runTraining([...TINY_THREADS, `steps=${steps}`, `utd_ratio=${utd}`, `actors=${actors}`, `num_envs=${envs}`, 'eval_episodes=0', `work_dir=${workDir('utd')}`]);
      const s = res.summary!;
      const total = Math.ceil(steps / envs) * envs;
      expect(s.envSteps).toBe(total);
      expect(s.updates).toBe(syncCount(total, envs, 100, 20, utd));
      expect(s.updates).toBe(s.expectedUpdates);
      expect(Math.abs(s.utd - utd) / utd).toBeLessThan(0.02);
      expect(s.restarts.every((r) => r === 0)).toBe(true);
    });
  }

  // Idle threads lend themselves to the other side (native engine, threads fit the cores): at utd 4
  // the actor waits for the learner most of the time and computes update kernels, at utd 0.25 the
  // learner waits for transitions and computes planning kernels. The model is wide enough that
  // those kernels split into tasks (the tiny one's run on one thread, leaving nothing to share).
  // (Under TDMPC_ENGINE=js there are no guest seats: the tiny model then checks that nothing is lent.)
  const HELP_MODEL = process.env.TDMPC_ENGINE === 'js' ? ['steps=160', 'eval_episodes=0'] : ['mlp_dim=256', 'enc_dim=64', 'latent_dim=64', 'batch_size=64', 'num_samples=64', 'iterations=2', 'steps=160', 'seed_steps=100', 'pretrain_updates=10', 'eval_episodes=0'];
  it('a waiting actor computes learner kernels and a waiting learner actor kernels; the ratio holds', async () => {
    const fast = await runTraining([...TINY_THREADS, ...HELP_MODEL, 'utd_ratio=4', `work_dir=${workDir('utd-help4')}`]);
    const slow = await runTraining([...TINY_THREADS, ...HELP_MODEL, 'utd_ratio=0.25', `work_dir=${workDir('utd-help025')}`]);
    for (const r of [fast, slow]) expect(r.summary!.updates).toBe(r.summary!.expectedUpdates);
    if (helpingExpected(fast.config)) {
      expect(fast.summary!.guestJobs.byActors).toBeGreaterThan(0);
      expect(slow.summary!.guestJobs.byLearner).toBeGreaterThan(0);
    } else {
      expect(fast.summary!.guestJobs).toEqual({ byActors: 0, byLearner: 0 });
    }
    const off = await runTraining([...TINY_THREADS, ...HELP_MODEL, 'utd_ratio=4', 'actors_help_learner=false', 'learner_helps_actor=false', `work_dir=${workDir('utd-nohelp')}`]);
    expect(off.summary!.guestJobs).toEqual({ byActors: 0, byLearner: 0 });
    expect(off.summary!.updates).toBe(fast.summary!.updates);
  });

  // With a band wider than the whole run the rate limiter never holds the actor, so it never lends
  // itself mid-run; it finishes its steps long before the learner (utd 4) and then lends its thread
  // to the updates the learner still owes: every actor guest job here comes from that finish.
  it('an actor with no steps left computes the updates the learner still owes', async () => {
    const r = await runTraining([...TINY_THREADS, ...HELP_MODEL, 'utd_ratio=4', 'utd_error_band=100000', `work_dir=${workDir('utd-finish')}`]);
    expect(r.summary!.updates).toBe(r.summary!.expectedUpdates);
    if (helpingExpected(r.config)) expect(r.summary!.guestJobs.byActors).toBeGreaterThan(0);
    else expect(r.summary!.guestJobs.byActors).toBe(0);
  });

  it("matches a runtime=sync run's update count on the same work", async () => {
    const args = [...TINY_THREADS, 'steps=300', 'utd_ratio=0.5', 'eval_episodes=0'];
    const threads = await runTraining([...args, `work_dir=${workDir('utd-t')}`]);
    const sync = await runTraining([...args, 'runtime=sync', `work_dir=${workDir('utd-s')}`]);
    expect(threads.state.step).toBe(sync.state.step);
    expect(threads.state.updates).toBe(sync.state.updates);
  });
});
