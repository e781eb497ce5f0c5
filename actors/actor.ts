// The acting loop of one actor (the thread shell is actor-worker.ts). An actor owns a VectorEnv of
// num_envs environments and an engine with one native thread, plans for all of its environments
// in one batched MPPI call, and writes its own replay shard (rings a*N .. a*N+N-1). It is the
// synchronous trainer's act/step/store block (src/trainer/online-trainer.ts) with three changes:
//   - steps are claimed from the shared header (N at a time) so all actors together take exactly
//     the run's step count, and the claim index decides seeding (random actions) vs planning;
//   - parameters come from the learner's snapshot every param_sync_interval steps, and every
//     transition is stored with the version it was chosen with (policy lag = learner - that);
//   - before each step the rate limiter may make it wait for the learner (under actors_help_learner
//     that wait, and the learner's last updates once no steps are left, compute its kernels).
import type { Agent } from '../src/agent/agent.js';
import type { VectorEnv } from '../src/envs/vector-env.js';
import { hash32, RngStream, uniformAt as uniform } from '../src/engine/rng.js';
import type { ReplayBuffer } from '../src/replay/replay-buffer.js';
import { storeEnvStep } from '../src/replay/store-step.js';
import { kUpdates, LEARNER_RUNNING, type RunHeader } from '../src/runtime/header.js';
import { lendThread } from '../src/runtime/lend-thread.js';
import type { ParamSnapshot } from '../src/runtime/param-snapshot.js';
import type { RateLimiter } from '../src/runtime/rate-limiter.js';
import type { BlockWriter } from '../src/metrics/block.js';
import { recordActorStep } from '../src/metrics/record.js';
import { yieldToEventLoop } from '../src/runtime/atomics.js';
import type { ActorInit, ActorStats } from '../src/runtime/control.js';
import { SeedingExpert, type SeedingExpertMode } from '../src/agent/seeding-expert.js';

export class InjectedFault extends Error {
  override name = 'InjectedFault';
}

/** hash32 of h combined with part: a bijection in h for a fixed part and in part for a fixed h. */
const mix = (h: number, part: number): number => hash32((h ^ hash32((part + 0x9e3779b9) >>> 0)) >>> 0);

/**
 * The seeds of one actor thread's random streams (each used from counter 0). A thread is named by
 * (actor slot, resumes: earlier starts of the run, saved in checkpoints; incarnation: crash restarts
 * of the slot in this start), so neither a restart nor a resume= replays draws an earlier thread
 * made. Hashed, not summed: sums of scaled parts collide (actor 1 = incarnation k for some k).
 * `env` is a VectorEnv base seed (env i uses env + i).
 */
export function actorStreamSeeds(seed: number, actor: number, resumes: number, incarnation: number) {
  const thread = mix(mix(mix(mix(0x0ac70000, seed), actor), resumes), incarnation);
  return { env: mix(thread, 1), randomActions: mix(thread, 2), planner: mix(thread, 3), policy: mix(thread, 4) };
}

export class Actor {
  private readonly N: number;
  private readonly rings: number; // first ring of this actor's shard
  private readonly rng: RngStream;
  private readonly prevObs: Float32Array; // [N, O]
  private readonly seedAction: Float32Array; // [N, A]
  private readonly seedExpert: SeedingExpert;
  private readonly episodeIds: number[];
  private actingVersion = -1;
  private stepsSinceSync = Infinity;
  private envSteps = 0;
  private episodes = 0;
  private paused = false;
  private parkedResolvers: (() => void)[] = [];
  private resumeResolver: (() => void) | null = null;
  private faultArmed = false;
  private readonly slot: Record<string, number>;

  constructor(
    readonly init: ActorInit,
    readonly env: VectorEnv,
    readonly agent: Agent,
    readonly replay: ReplayBuffer,
    readonly header: RunHeader,
    readonly snapshot: ParamSnapshot,
    readonly limiter: RateLimiter,
    readonly metrics: BlockWriter,
  ) {
    const { cfg, derived, actor, incarnation, resumes } = init;
    const N = (this.N = cfg.num_envs);
    this.rings = actor * N;
    // Every actor thread of every start of the run gets its own random-action, planning and episode streams.
    const seeds = actorStreamSeeds(cfg.seed, actor, resumes, incarnation);
    this.rng = new RngStream(seeds.randomActions);
    agent.seedActing(seeds.planner, seeds.policy);
    this.prevObs = new Float32Array(N * derived.obsDim);
    this.seedAction = new Float32Array(N * derived.actionDim);
    this.seedExpert = new SeedingExpert(cfg.seeding_expert as SeedingExpertMode, N * derived.actionDim, cfg.log_std_max);
    // Take over the shard: close writes a killed predecessor left open, start fresh episodes (its
    // unfinished episodes end where it stopped writing; their committed steps stay valid data).
    for (let i = 0; i < N; i++) replay.recoverRing(this.rings + i);
    this.episodeIds = Array.from({ length: N }, (_, i) => replay.beginEpisode(this.rings + i));
    this.slot = metrics.layout.slotIndex();
    env.reset(seeds.env);
    agent.resetEpisodes();
  }

  stats(): ActorStats {
    return { actor: this.init.actor, incarnation: this.init.incarnation, envSteps: this.envSteps, episodes: this.episodes, actingVersion: this.actingVersion, paused: this.paused };
  }

  pause(): Promise<void> {
    this.paused = true;
    return new Promise((resolve) => this.parkedResolvers.push(resolve));
  }

  resume(): void {
    this.paused = false;
    this.resumeResolver?.();
  }

  injectFault(): void {
    this.faultArmed = true;
  }

  /**
   * The loop: wait for the rate limiter, claim N steps, act, step, store, commit; with no steps
   * left, help the learner finish (helpLearnerFinish) and return.
   */
  async run(startPaused: boolean): Promise<ActorStats> {
    const { header, limiter } = this;
    const a = this.init.actor;
    if (startPaused) this.paused = true;
    for (;;) {
      await yieldToEventLoop(); // control messages (stats, pause) run here
      if (this.paused) await this.park();
      if (header.stopRequested()) break;
      if (!limiter.mayInsert(header.claimed(), header.updates())) {
        await limiter.waitToInsert(header, () => this.paused || header.stopRequested(), this.helpLearner, this.countWait);
        this.flushWait();
        continue;
      }
      const first = header.claim(a, this.N, this.init.totalSteps);
      if (first < 0) {
        header.markDone(a);
        await this.helpLearnerFinish();
        break;
      }
      this.step(first);
    }
    // Wake anyone waiting for us to park: a stopped actor writes nothing more.
    for (const r of this.parkedResolvers.splice(0)) r();
    return this.stats();
  }

  private async park(): Promise<void> {
    for (const r of this.parkedResolvers.splice(0)) r();
    while (this.paused && !this.header.stopRequested()) {
      await new Promise<void>((resolve) => { this.resumeResolver = resolve; setTimeout(resolve, 200); });
    }
    this.resumeResolver = null;
  }

  /**
   * actors_help_learner: spends a rate-limiter wait (or, with no steps left, the learner's last
   * updates) computing the learner's update kernels until the update counter leaves `updates`
   * (20 ms at most per call). False when this actor cannot help (option off, another actor in the
   * seat, the learner's engine not listed): it then sleeps, or after its last step returns.
   */
  private readonly helpLearner = (updates: number): boolean =>
    lendThread(this.init.learnerSeatId, this.header.i32, kUpdates, updates, this.metrics, this.slot.guest_jobs);

  /**
   * actors_help_learner, once there are no steps left to claim: the learner still owes the updates
   * it is behind by (it enters the learning phase a pretraining burst behind the actors and works
   * that backlog off during the run), and would otherwise run the last of them alone while this
   * core idles. Lends this thread to them until the learner reaches its final count or stops, a
   * stop is requested, or lending is not possible (option off, another actor in the seat).
   */
  private async helpLearnerFinish(): Promise<void> {
    const { header, limiter } = this;
    while (!this.paused && !header.stopRequested() && header.learnerState() === LEARNER_RUNNING) {
      const u = header.updates();
      if (u >= limiter.finalUpdates || !this.helpLearner(u)) return;
      await yieldToEventLoop(); // control messages (stats, pause) run between lends
    }
  }

  /** Wait seconds not yet in the metrics block, and when they were last written there. */
  private unflushedWait = 0;
  private lastWaitFlush = 0;

  /**
   * Counts rate-limiter wait as it happens: into the block (with a heartbeat) once a second, so a
   * scrape during a long wait sees the wait grow and the actor alive.
   */
  private readonly countWait = (seconds: number): void => {
    this.unflushedWait += seconds;
    if (performance.now() - this.lastWaitFlush >= 1000) this.flushWait();
  };

  private flushWait(): void {
    const seconds = this.unflushedWait;
    this.unflushedWait = 0;
    this.lastWaitFlush = performance.now();
    this.count(() => {
      this.metrics.add(this.slot.rate_wait_seconds, seconds);
      this.metrics.set(this.slot.heartbeat_seconds, Date.now() / 1000);
    });
  }

  private count(fn: () => void): void {
    this.metrics.begin();
    fn();
    this.metrics.end();
  }

  /** One vector step of N envs whose global step indices start at `first`. */
  private step(first: number): void {
    const { init, env, agent, replay, header, snapshot, metrics } = this;
    const { cfg, derived } = init;
    const N = this.N;
    const { actionDim: A } = derived;
    const seeding = first < derived.seedSteps;

    // ---- act
    this.prevObs.set(env.obs);
    let action: Float32Array;
    let expertMean: Float32Array;
    let expertStd: Float32Array;
    let planSeconds = -1;
    let planNonFinite = 0;
    let policyNonFinite = 0;
    if (seeding) {
      const c = this.rng.take(N * A);
      for (let i = 0; i < N * A; i++) this.seedAction[i] = 2 * uniform(this.rng.seed, c + i) - 1;
      action = this.seedAction;
      expertMean = this.seedExpert.meanFor(action);
      expertStd = this.seedExpert.std;
    } else {
      if (++this.stepsSinceSync >= cfg.param_sync_interval) {
        const before = snapshot.retries;
        this.actingVersion = snapshot.read(agent.model.params, agent.model.valueTarget, this.actingVersion);
        this.stepsSinceSync = 0;
        this.count(() => {
          metrics.add(this.slot.param_syncs, 1);
          metrics.add(this.slot.snapshot_retries, snapshot.retries - before);
        });
      }
      const t0 = performance.now();
      // This plan's NaN/Inf scores (mpc) or policy actions (mpc=false): the block outlives a
      // restarted actor, so it is given deltas.
      const nonFiniteBefore = agent.planner.nonFiniteScores;
      const policyNonFiniteBefore = agent.policyNonFiniteActions.acting;
      const out = agent.act(N, env.obs, false);
      planSeconds = (performance.now() - t0) / 1000;
      planNonFinite = agent.planner.nonFiniteScores - nonFiniteBefore;
      policyNonFinite = agent.policyNonFiniteActions.acting - policyNonFiniteBefore;
      action = out.action;
      expertMean = out.expertMean;
      expertStd = out.expertStd;
    }

    // ---- step and store (src/replay/store-step.ts: the transition, and a LAST slot at an episode's end)
    const t1 = performance.now();
    env.step(action);
    const envSeconds = (performance.now() - t1) / 1000;
    const version = seeding ? Math.max(0, this.actingVersion) : this.actingVersion;
    let ended = 0;
    const returns: number[] = [];
    let diverged = 0;
    const stepInputs = { prevObs: this.prevObs, action, expertMean, expertStd, version };
    for (let i = 0; i < N; i++) {
      const r = this.rings + i;
      const stored = storeEnvStep(replay, r, this.episodeIds[i], env, i, stepInputs);
      if (this.faultArmed) {
        this.faultArmed = false;
        throw new InjectedFault(`actor ${init.actor}: injected fault in the middle of a vector step (after env ${i} was stored)`);
      }
      if (stored === 'diverged') diverged++;
      if (stored !== 'continues') {
        this.episodeIds[i] = replay.beginEpisode(r);
        agent.resetEpisode(i);
        returns.push(env.finishedReturn[i]);
        ended++;
      }
    }
    header.commit(init.actor, N);
    if (ended > 0) header.addEpisodes(ended);
    this.envSteps += N;
    this.episodes += ended;

    // ---- metrics: a handful of stores into this actor's shared block
    const lag = seeding ? -1 : header.updates() - this.actingVersion;
    metrics.begin();
    recordActorStep(metrics, this.slot, {
      numEnvs: N, ended, returns, planSeconds, envSeconds, actingVersion: this.actingVersion, seeding, lag,
      planDiagnostics: planSeconds >= 0 && cfg.mpc ? agent.lastMetrics : null, diverged, planNonFinite, policyNonFinite,
    });
    metrics.end();
  }
}
