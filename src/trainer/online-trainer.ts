// The synchronous online trainer (tdmpc2's trainer/online_trainer.py): the environment loop only.
// Read top to bottom: seed with random actions, then act with the planner, store every transition
// and the planner's expert distribution, and run `utd_ratio` updates per environment step.
// The threaded runtime reuses the same agent, replay buffer and evaluation pieces.
import type { Config } from '../config/schema.js';
import type { Derived } from '../config/derive.js';
import { RngStream, uniformAt as uniform } from '../engine/rng.js';
import type { VectorEnv } from '../envs/vector-env.js';
import { ReplayBuffer, allocateBatch, type ReplayBatch } from '../replay/replay-buffer.js';
import { storeEnvStep } from '../replay/store-step.js';
import type { Agent } from '../agent/agent.js';
import { yieldToEventLoop } from './event-loop.js';
import { evaluate, type EvalEnvs } from './evaluate.js';
import type { RunLogger } from './logger.js';
import { UpdateTokens } from './update-tokens.js';
import { SeedingExpert, type SeedingExpertMode } from '../agent/seeding-expert.js';
import { DivergenceNotes, NumericFaultNotes, agentFaultCounts, evaluationFaultNote } from './numeric-faults.js';
import type { SyncMetrics } from './sync-metrics.js';

/**
 * Whether the synchronous loop evaluates at the start of the vector step at `step`: every eval_freq
 * steps, the first step of num_envs that reaches a multiple (steps advance num_envs at a time).
 */
export function evaluatesAtStep(cfg: Config, step: number): boolean {
  return step % cfg.eval_freq < cfg.num_envs;
}

/** How often a run of updates yields to the event loop (where a stop request is heard). */
const UPDATE_YIELD_MS = 50;
/** How often a long run of updates (the pretraining burst) shows its progress, as the threaded runtime does. */
const UPDATE_PROGRESS_MS = 10_000;

/** Counters and RNG states that, with the agent and replay, fully determine the rest of a run. */
export interface TrainerState {
  step: number; // environment steps so far (over all envs)
  updates: number; // gradient updates so far
  episodes: number;
  tokens: number; // fractional update tokens carried over (UTD scheme)
  pretrained: boolean;
  lastReturn: number | null;
  /** Steps whose simulation diverged (their episodes ended early; absent in older checkpoints). */
  divergences: number;
  /**
   * The evaluations' planner NaN/Inf scores and policy fallbacks over the run (/metrics counts them
   * on over resume=, as the threaded runtime's actorFaults do). Absent in older checkpoints (0).
   */
  evalFaults?: EvalFaultTotals;
  /**
   * Updates the last step still owed when a stop came inside them (the pretraining burst runs
   * minutes); a resumed run makes them first. Absent in older checkpoints (0).
   */
  updatesOwed?: number;
  actRng: { seed: number; counter: number };
  sampleRng: { seed: number; counter: number };
  /** Episode id of each env's current episode in its replay ring. */
  episodeIds: number[];
}

export interface EvalFaultTotals {
  planScores: number;
  policyActions: number;
}

export interface TrainerHooks {
  /** Called after every vector step, every step of an evaluation and every ~50 ms of a run of updates; return true to stop (e.g. Ctrl-C). */
  shouldStop?: () => boolean;
  /** Called after every vector step and its updates, with the step and update counts (benchmarks time windows with it). */
  afterStep?: (step: number, updates: number) => void;
  /** Called when a checkpoint is due (episode boundaries of all envs only, for exact resume). */
  checkpoint?: (state: TrainerState) => void;
}

export class OnlineTrainer {
  readonly batch: ReplayBatch;
  readonly state: TrainerState;
  private readonly actRng: RngStream;
  private readonly sampleRng: RngStream;
  private readonly tokens: UpdateTokens;
  private readonly prevObs: Float32Array; // [N, O] observation before the step
  private readonly seedAction: Float32Array; // [N, A]
  private readonly seedExpert: SeedingExpert;

  constructor(
    readonly cfg: Config,
    readonly derived: Derived,
    readonly env: VectorEnv,
    readonly evalEnvs: EvalEnvs,
    readonly agent: Agent,
    readonly replay: ReplayBuffer,
    readonly logger: RunLogger,
    state?: TrainerState,
    /** Prometheus counting (metrics=true): the same series a threaded run exports. */
    readonly metrics: SyncMetrics | null = null,
  ) {
    const N = env.numEnvs;
    const { obsDim: O, actionDim: A } = derived;
    this.batch = allocateBatch(cfg.batch_size, cfg.horizon, O, A);
    this.state = state ? { ...state, divergences: state.divergences ?? 0, evalFaults: state.evalFaults ?? { planScores: 0, policyActions: 0 } } : {
      step: 0, updates: 0, episodes: 0, tokens: 0, pretrained: false, lastReturn: null, divergences: 0, evalFaults: { planScores: 0, policyActions: 0 },
      actRng: { seed: (cfg.seed * 7919 + 1) >>> 0, counter: 0 },
      sampleRng: { seed: (cfg.seed * 7919 + 2) >>> 0, counter: 0 },
      episodeIds: [],
    };
    this.actRng = new RngStream(this.state.actRng.seed, this.state.actRng.counter);
    this.sampleRng = new RngStream(this.state.sampleRng.seed, this.state.sampleRng.counter);
    this.tokens = new UpdateTokens(cfg.utd_ratio, this.state.tokens);
    this.prevObs = new Float32Array(N * O);
    this.seedAction = new Float32Array(N * A);
    this.seedExpert = new SeedingExpert(cfg.seeding_expert as SeedingExpertMode, N * A, cfg.log_std_max);
    const st = this.state;
    this.metrics?.resume(st.step, st.episodes, st.updates, st.divergences, agent.faultTotals(), st.evalFaults!);
  }

  private syncState(): void {
    this.state.actRng = this.actRng.state();
    this.state.sampleRng = this.sampleRng.state();
    this.state.tokens = this.tokens.carry;
  }

  /**
   * Runs until cfg.steps environment steps (or a stop request). Returns the final state. Async only
   * to yield to the event loop once per step (so Ctrl-C is heard); the work itself is synchronous.
   */
  async train(hooks: TrainerHooks = {}): Promise<TrainerState> {
    const { cfg, derived, env, agent, replay, logger } = this;
    const N = env.numEnvs;
    const { actionDim: A } = derived;
    const st = this.state;
    // Environments start (or restart, on resume) at an episode boundary; each boundary where all
    // envs ended reseeds them from the episode count, so a resumed run sees the same episodes.
    env.reset(this.episodeSeed());
    agent.resetEpisodes();
    // New episode ids: a resumed run may hold a partial episode that must not join the next one.
    st.episodeIds = Array.from({ length: N }, (_, i) => replay.beginEpisode(i));
    let wallStart = performance.now();
    let stepsAtWall = st.step;
    // Simulation divergences are reported once per log line (like the threaded runtime's), with the latest's description.
    const divergenceNotes = new DivergenceNotes(st.divergences);
    let lastDivergence = '';
    const faultNotes = new NumericFaultNotes(agentFaultCounts(agent.faultTotals()));
    /** The metrics line and progress display of the step just taken (every log_freq steps and at the end). */
    const logStep = () => {
      if (st.step % cfg.log_freq >= N && st.step < cfg.steps) return;
      const now = performance.now();
      const sps = ((st.step - stepsAtWall) * 1000) / Math.max(1, now - wallStart);
      wallStart = now;
      stepsAtWall = st.step;
      const diverged = divergenceNotes.since(st.divergences, lastDivergence);
      if (diverged) logger.warn(diverged);
      const faults = faultNotes.since(agentFaultCounts(agent.faultTotals()));
      if (faults) logger.warn(faults);
      logger.metrics(st.step, 'train', { ...agent.lastMetrics, updates: st.updates, episodes: st.episodes, steps_per_s: sps, utd_realized: st.updates / st.step, ...(st.divergences > 0 ? { physics_divergences: st.divergences } : {}), ...(st.lastReturn !== null ? { episode_return: st.lastReturn } : {}) });
      logger.progress(st.step, cfg.steps, sps, st.lastReturn, `${st.updates} updates`, st.step <= derived.seedSteps ? 'seeding' : null);
    };
    // A run stopped inside a step's updates owes the rest: they come first, then that step's log line.
    const owed = st.updatesOwed ?? 0;
    if (owed > 0) {
      logger.note(`resuming inside the updates of step ${st.step}: the ${owed} left come first`);
      if (!(await this.runUpdates(owed, hooks))) {
        logger.note(`stopping inside the updates of step ${st.step} again: ${st.updatesOwed} of ${owed} are left; resume= makes them first`);
        logger.endProgress();
        this.syncState();
        return st;
      }
      hooks.afterStep?.(st.step, st.updates); // the step is complete now
      logStep();
    }

    while (st.step < cfg.steps) {
      await yieldToEventLoop();
      if (evaluatesAtStep(cfg, st.step) && !(await this.runEvaluation(hooks))) break; // stopped mid-evaluation

      // ---- act
      const actStart = performance.now();
      const seeding = st.step < derived.seedSteps;
      // For /metrics: this step's NaN/Inf planner scores or policy actions (the counts before acting).
      const planFaultsBefore = agent.planner.nonFiniteScores;
      const policyFaultsBefore = agent.policyNonFiniteActions.acting;
      this.prevObs.set(env.obs);
      let action: Float32Array;
      let expertMean: Float32Array;
      let expertStd: Float32Array;
      if (seeding) {
        const c = this.actRng.take(N * A);
        for (let i = 0; i < N * A; i++) this.seedAction[i] = 2 * uniform(this.actRng.seed, c + i) - 1;
        action = this.seedAction;
        expertMean = this.seedExpert.meanFor(action);
        expertStd = this.seedExpert.std;
      } else {
        const out = agent.act(N, env.obs, false);
        action = out.action;
        expertMean = out.expertMean;
        expertStd = out.expertStd;
      }

      // ---- step and store (src/replay/store-step.ts: the transition, and a LAST slot at an episode's end)
      const envStart = performance.now();
      env.step(action);
      const envSeconds = (performance.now() - envStart) / 1000;
      let episodesEnded = 0;
      const returns: number[] = [];
      const divergencesBefore = st.divergences;
      const stepInputs = { prevObs: this.prevObs, action, expertMean, expertStd, version: st.updates };
      for (let i = 0; i < N; i++) {
        const stored = storeEnvStep(replay, i, st.episodeIds[i], env, i, stepInputs);
        if (stored === 'diverged') {
          st.divergences++;
          lastDivergence = `env ${i}: ${env.divergence[i]}`;
        }
        if (stored !== 'continues') {
          st.episodeIds[i] = replay.beginEpisode(i);
          st.lastReturn = env.finishedReturn[i];
          returns.push(st.lastReturn);
          agent.resetEpisode(i);
          st.episodes++;
          episodesEnded++;
        }
      }
      const stepBefore = st.step;
      st.step += N;
      this.metrics?.recordStep({
        numEnvs: N, ended: episodesEnded, returns, planSeconds: seeding ? -1 : (envStart - actStart) / 1000, envSeconds,
        actingVersion: st.updates, seeding, lag: seeding ? -1 : 0, planDiagnostics: !seeding && cfg.mpc ? agent.lastMetrics : null,
        diverged: st.divergences - divergencesBefore, planNonFinite: agent.planner.nonFiniteScores - planFaultsBefore,
        policyNonFinite: agent.policyNonFiniteActions.acting - policyFaultsBefore,
      });

      // ---- learn: a pretraining burst when seeding ends, then utd_ratio updates per env step
      // (updates start with the first non-random step, as in tdmpc2's `step >= seed_steps`).
      if (stepBefore >= derived.seedSteps) {
        let n = this.tokens.add(N);
        if (!st.pretrained) {
          st.pretrained = true;
          n += derived.pretrainUpdates;
          if (derived.pretrainUpdates > 0) logger.announcePretraining(derived.pretrainUpdates);
        }
        if (!(await this.runUpdates(n, hooks))) {
          logger.note(`stopping inside the updates of step ${st.step}: ${st.updatesOwed} of ${n} are left; resume= makes them first`);
          break;
        }
      }

      // ---- bookkeeping
      hooks.afterStep?.(st.step, st.updates);
      logStep();
      // Checkpoints only where every env just finished an episode, so resume is exact; none at the
      // last step, whose checkpoint is the caller's final one.
      const allEnded = episodesEnded === N;
      if (allEnded) env.reset(this.episodeSeed());
      if (allEnded && hooks.checkpoint && cfg.checkpoint_freq > 0 && st.step < cfg.steps && st.step % cfg.checkpoint_freq < derived.episodeLength * N) {
        this.syncState();
        hooks.checkpoint(st);
      }
      if (hooks.shouldStop?.()) break;
    }
    if (st.step >= cfg.steps) await this.runEvaluation(hooks);
    logger.endProgress();
    this.syncState();
    return st;
  }

  private episodeSeed(): number {
    return (this.cfg.seed * 1_000_003 + this.state.episodes) >>> 0;
  }

  /**
   * Makes n updates, yielding to the event loop every ~50 ms so that a stop request (Ctrl-C,
   * SIGTERM) is heard inside the pretraining burst too, not minutes later. On a stop the updates
   * not made are recorded as st.updatesOwed and false is returned.
   */
  private async runUpdates(n: number, hooks: TrainerHooks): Promise<boolean> {
    const st = this.state;
    st.updatesOwed = 0;
    let yieldedAt = performance.now();
    let shownAt = yieldedAt;
    for (let k = 0; k < n; k++) {
      this.updateOnce();
      if (k + 1 < n && performance.now() - yieldedAt >= UPDATE_YIELD_MS) {
        if (yieldedAt - shownAt >= UPDATE_PROGRESS_MS) {
          // The burst is the run's first pretrain_updates updates.
          const burst = st.updates <= this.derived.pretrainUpdates;
          this.logger.progress(st.step, this.cfg.steps, 0, st.lastReturn, `${burst ? 'pretraining' : 'updates of this step'} ${k + 1}/${n}`, burst ? 'pretraining' : null);
          shownAt = yieldedAt;
        }
        await yieldToEventLoop();
        yieldedAt = performance.now();
        if (hooks.shouldStop?.()) {
          st.updatesOwed = n - k - 1;
          return false;
        }
      }
    }
    return true;
  }

  /** One gradient update (plus lazy reanalysis on its schedule). */
  updateOnce(): void {
    const { cfg, agent, replay } = this;
    const t0 = performance.now();
    replay.sample(this.batch, this.sampleRng);
    this.state.updates++;
    let reanalysisSeconds = -1;
    let reanalyzed = 0;
    if (cfg.reanalyze_interval > 0 && this.state.updates % cfg.reanalyze_interval === 0) {
      const t1 = performance.now();
      reanalyzed = agent.reanalyze(this.batch, replay);
      reanalysisSeconds = (performance.now() - t1) / 1000;
    }
    agent.update(this.batch, Math.min(1, this.state.step / this.cfg.steps));
    this.metrics?.recordUpdate({
      updates: this.state.updates, samples: this.state.updates * this.batch.B, seconds: (performance.now() - t0) / 1000 - Math.max(0, reanalysisSeconds),
      reanalysisSeconds, reanalyzed, info: agent.lastMetrics,
    });
  }

  /** Evaluates and logs; false when a stop request cancelled it (nothing is logged then). */
  private async runEvaluation(hooks: TrainerHooks): Promise<boolean> {
    if (this.cfg.eval_episodes === 0) return true;
    // With metrics on, every evaluation step yields (scrapes are answered) and beats the heartbeats.
    const metrics = this.metrics;
    const stepHook = metrics ? () => { metrics.heartbeat(); return hooks.shouldStop?.() ?? false; } : hooks.shouldStop;
    const r = await evaluate(this.agent, this.evalEnvs, this.cfg, this.derived, stepHook);
    if (r === null) return false;
    this.logger.evaluation(this.state.step, r.reward);
    const before = this.state.evalFaults!;
    this.state.evalFaults = {
      planScores: before.planScores + (r.metrics.plan_nonfinite_scores ?? 0),
      policyActions: before.policyActions + (r.metrics.policy_nonfinite_actions ?? 0),
    };
    this.metrics?.recordEvaluation(this.state.step, r.reward, this.state.evalFaults, this.cfg.task);
    this.logger.metrics(this.state.step, 'eval', r.metrics);
    const faults = evaluationFaultNote(this.state.step, r.metrics);
    if (faults) this.logger.warn(faults);
    this.logger.note(`eval @ ${this.state.step}: return ${r.reward.toFixed(1)}${r.summary ? ' | ' + r.summary : ''}`);
    return true;
  }
}
