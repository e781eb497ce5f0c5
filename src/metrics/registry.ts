// The Prometheus registry of a run (main thread). Worker-side numbers come from the shared blocks
// (block.ts), copied once per scrape so every metric of one scrape comes from the same copy;
// main-thread numbers (restarts, evaluation) are ordinary prom-client metrics. The synchronous
// loop counts into the same blocks (src/trainer/sync-metrics.ts), so both runtimes export the same series.
//
// Naming follows Prometheus conventions: prefix tdmpc_, base units (seconds, bytes), counters end
// in _total, latencies are histograms with DURATION_BUCKETS.
import { Counter, Gauge, Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { ReplayBuffer } from '../replay/replay-buffer.js';
import { replayBytes } from '../replay/replay-buffer.js';
import { readBlock, sumHistograms, sumScalars, type BlockSnapshot } from './block.js';
import { ACTOR_LAYOUT, LEARNER_LAYOUT, LOSS_TERMS } from './layouts.js';
import { NO_ACTOR_FAULTS, type ActorFaultTotals } from '../runtime/control.js';

export interface ScrapeSources {
  /** Env steps committed to the replay over the run (the threaded run's header; the synchronous loop's step). */
  inserts: () => number;
  replay: ReplayBuffer;
  actorBlocks: readonly SharedArrayBuffer[];
  learnerBlock: SharedArrayBuffer;
  /** Labels of tdmpc_run_info (the config's key values). */
  runInfo: Record<string, string>;
  task: string;
  /**
   * Env steps and episodes of the run before a resume: the actors' blocks count from 0 in every
   * process, and the counters must stay cumulative like tdmpc_replay_inserts_total and
   * tdmpc_learner_updates_total, which resume from the checkpoint.
   */
  resumed?: { envSteps: number; episodes: number; faults?: ActorFaultTotals };
}

/**
 * The labels of tdmpc_run_info: the config's key values (both runtimes). The synchronous loop is one
 * actor whatever `actors` says (the key is inert there), so its label is 1, like its actor series.
 */
export function runInfoLabels(cfg: Config, learnerEngineThreads: number): Record<string, string> {
  return {
    task: cfg.task, algo: cfg.algo, runtime: cfg.runtime, actors: cfg.runtime === 'threads' ? String(cfg.actors) : '1', num_envs: String(cfg.num_envs),
    utd_ratio: String(cfg.utd_ratio), model_size: String(cfg.model_size), seed: String(cfg.seed), learner_threads: String(learnerEngineThreads),
  };
}

type Labels = Record<string, string | number>;
interface Value { value: number; labels?: Labels; metricName?: string }
type Kind = 'counter' | 'gauge' | 'histogram';

/** A metric whose values are computed from the scrape's block copies (prom-client Metric interface). */
class ScrapedMetric {
  readonly aggregator = 'sum';
  constructor(readonly name: string, readonly help: string, readonly type: Kind, private readonly values: () => Value[]) {}
  async get() {
    return { name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: this.aggregator };
  }
  reset(): void {}
}

function histogramValues(name: string, h: { bounds: readonly number[]; cumulative: number[]; sum: number; count: number }, labels: Labels = {}): Value[] {
  const out: Value[] = h.bounds.map((b, i) => ({ metricName: `${name}_bucket`, labels: { ...labels, le: b }, value: h.cumulative[i] }));
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.cumulative[h.bounds.length] });
  out.push({ metricName: `${name}_sum`, labels, value: h.sum });
  out.push({ metricName: `${name}_count`, labels, value: h.count });
  return out;
}

/**
 * Policy-lag buckets for Prometheus: powers of two over the exact per-value counts. The block's
 * last count (LAG_MAX) also holds every larger lag, so the last finite bucket stops below it.
 */
const LAG_BOUNDS = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048];

export class RunMetrics {
  readonly registry = new Registry();
  readonly actorRestarts: Counter<'actor'>;
  readonly actorCrashes: Counter<'actor' | 'reason'>;
  readonly evalReturn: Gauge<'task'>;
  readonly evalStep: Gauge<'task'>;
  /** Planner NaN/Inf scores of the finished evaluations (main thread: their results arrive here). */
  evalPlanNonFiniteScores = 0;
  /** Policy NaN/Inf actions of the finished evaluations, replaced by the fallback (likewise). */
  evalPolicyNonFiniteActions = 0;
  private actors: BlockSnapshot[] = [];
  private learner: BlockSnapshot;
  /** The actors' fault counts before this start (their blocks count from 0 in every process). */
  private readonly faultsBefore: ActorFaultTotals;

  constructor(readonly src: ScrapeSources) {
    this.learner = readBlock(LEARNER_LAYOUT, src.learnerBlock);
    // Fault counts, like env steps, continue over the run (the learner's travel in its agent).
    this.faultsBefore = { ...NO_ACTOR_FAULTS, ...src.resumed?.faults };
    this.evalPlanNonFiniteScores = this.faultsBefore.evalPlanScores;
    this.evalPolicyNonFiniteActions = this.faultsBefore.evalPolicyActions;
    const reg = this.registry;
    const task = src.task;
    const add = (name: string, help: string, type: Kind, values: () => Value[]) => {
      reg.registerMetric(new ScrapedMetric(name, help, type, values) as never);
    };
    const sumActors = (slot: string) => sumScalars(this.actors, slot);
    const perActor = (slot: string) => this.actors.map((b, a) => ({ labels: { actor: a }, value: b.scalar(slot) }));

    add('tdmpc_run_info', 'Run configuration (key config values as labels); always 1.', 'gauge', () => [{ labels: src.runInfo, value: 1 }]);
    // ---- acting
    const resumed = src.resumed ?? { envSteps: 0, episodes: 0 };
    add('tdmpc_env_steps_total', 'Environment (agent) steps taken by all actors.', 'counter', () => [{ labels: { task }, value: resumed.envSteps + sumActors('env_steps') }]);
    add('tdmpc_episodes_total', 'Episodes finished by all actors.', 'counter', () => [{ labels: { task }, value: resumed.episodes + sumActors('episodes') }]);
    add('tdmpc_physics_divergences_total', 'Environment steps whose simulation diverged (MuJoCo reset it, or the observation or reward was not finite): each ended its episode at the last valid state and was not stored.', 'counter', () => [{ labels: { task }, value: this.actorFaultTotals().divergences }]);
    add('tdmpc_plan_nonfinite_scores_total', 'Planner candidate trajectories whose score was NaN/Inf (ranked last, never elites while finite ones exist), by planner (the actors\' acting, the learner\'s reanalysis, the evaluations).', 'counter', () => [
      { labels: { planner: 'acting' }, value: this.actorFaultTotals().planScores },
      { labels: { planner: 'reanalysis' }, value: this.learner.scalar('reanalysis_nonfinite_scores') },
      { labels: { planner: 'eval' }, value: this.evalPlanNonFiniteScores },
    ]);
    add('tdmpc_policy_nonfinite_actions_total', 'Policy-prior actions (mpc=false acting, policy-only evaluations) whose action or Gaussian was NaN/Inf: each acted from mean 0 and max_std instead, by use (the actors\' acting, the evaluations).', 'counter', () => [
      { labels: { use: 'acting' }, value: this.actorFaultTotals().policyActions },
      { labels: { use: 'eval' }, value: this.evalPolicyNonFiniteActions },
    ]);
    add('tdmpc_episode_return', 'Returns of finished training episodes.', 'histogram', () => this.actors.length
      ? histogramValues('tdmpc_episode_return', sumHistograms(this.actors.map((b) => b.histogram('episode_return'))), { task }) : []);
    add('tdmpc_actor_last_episode_return', 'Return of the last episode each actor finished.', 'gauge', () => perActor('last_episode_return').map((v) => ({ ...v, labels: { ...v.labels, task } })));
    add('tdmpc_actor_last_heartbeat_timestamp_seconds', 'Unix time of each actor\'s last step.', 'gauge', () => perActor('heartbeat_seconds'));
    add('tdmpc_actor_parameter_version', 'Parameter version each actor acts with.', 'gauge', () => perActor('acting_version'));
    add('tdmpc_plan_duration_seconds', 'Duration of one batched MPPI plan (all envs of an actor).', 'histogram', () => this.actors.length
      ? histogramValues('tdmpc_plan_duration_seconds', sumHistograms(this.actors.map((b) => b.histogram('plan_seconds')))) : []);
    add('tdmpc_env_step_duration_seconds', 'Duration of one vector environment step (physics of all envs of an actor).', 'histogram', () => this.actors.length
      ? histogramValues('tdmpc_env_step_duration_seconds', sumHistograms(this.actors.map((b) => b.histogram('env_step_seconds')))) : []);
    add('tdmpc_policy_lag_updates', 'Learner version minus the version an action was chosen with, per stored transition.', 'histogram', () => {
      if (!this.actors.length) return [];
      const counts: number[] = [];
      let sum = 0;
      let count = 0;
      for (const b of this.actors) {
        const h = b.intHistogram('policy_lag');
        h.counts.forEach((c, i) => { counts[i] = (counts[i] ?? 0) + c; });
        sum += h.sum;
        count += h.count;
      }
      const cumulative = LAG_BOUNDS.map((bound) => counts.slice(0, bound + 1).reduce((s, c) => s + c, 0));
      cumulative.push(count);
      return histogramValues('tdmpc_policy_lag_updates', { bounds: LAG_BOUNDS, cumulative, sum, count });
    });
    // ---- learning
    add('tdmpc_learner_updates_total', 'Gradient updates done by the learner.', 'counter', () => [{ labels: { task }, value: this.learner.scalar('updates') }]);
    add('tdmpc_parameter_version', 'Newest published parameter version (= learner updates at publication).', 'gauge', () => [{ value: this.learner.scalar('version') }]);
    add('tdmpc_learner_loss', 'Loss terms of the latest update.', 'gauge', () => Object.entries(LOSS_TERMS).map(([slot, term]) => ({ labels: { term }, value: this.learner.scalar(slot) })));
    add('tdmpc_learner_grad_norm', 'Global gradient norm of the latest update (before clipping).', 'gauge', () => [{ value: this.learner.scalar('grad_norm') }]);
    add('tdmpc_learner_nonfinite_gradients_total', 'Gradient entries that were NaN/Inf and were zeroed before the optimizer step (world model and policy).', 'counter', () => [{ value: this.learner.scalar('nonfinite_grads') }]);
    add('tdmpc_learner_last_heartbeat_timestamp_seconds', 'Unix time of the learner\'s last update or wait.', 'gauge', () => [{ value: this.learner.scalar('heartbeat_seconds') }]);
    add('tdmpc_update_duration_seconds', 'Duration of one gradient update (sampling included, reanalysis not: see tdmpc_reanalysis_duration_seconds).', 'histogram', () => histogramValues('tdmpc_update_duration_seconds', this.learner.histogram('update_seconds')));
    add('tdmpc_reanalysis_duration_seconds', 'Duration of one lazy reanalysis (re-planning a batch).', 'histogram', () => histogramValues('tdmpc_reanalysis_duration_seconds', this.learner.histogram('reanalysis_seconds')));
    add('tdmpc_reanalyzed_slots_total', 'Replay slots whose expert distribution reanalysis rewrote.', 'counter', () => [{ value: this.learner.scalar('reanalyzed') }]);
    // ---- replay and rate limiter
    add('tdmpc_replay_inserts_total', 'Env steps committed to the replay buffer.', 'counter', () => [{ value: src.inserts() }]);
    add('tdmpc_replay_samples_total', 'Slices sampled from the replay buffer by the learner.', 'counter', () => [{ value: this.learner.scalar('samples') }]);
    add('tdmpc_replay_size', 'Committed slots currently held in the replay buffer.', 'gauge', () => [{ value: src.replay.size() }]);
    add('tdmpc_replay_capacity', 'Replay buffer capacity in slots.', 'gauge', () => [{ value: src.replay.shape.numRings * src.replay.shape.ringCapacity }]);
    add('tdmpc_replay_memory_bytes', 'Shared memory held by the replay buffer.', 'gauge', () => [{ value: replayBytes(src.replay.shape) }]);
    add('tdmpc_rate_limiter_wait_seconds_total', 'Time spent blocked by the samples-per-insert rate limiter, per side.', 'counter', () => [
      { labels: { side: 'actor' }, value: sumActors('rate_wait_seconds') },
      { labels: { side: 'learner' }, value: this.learner.scalar('rate_wait_seconds') },
    ]);
    add('tdmpc_guest_jobs_total', "Kernel jobs of the other side's engine computed while waiting on the rate limiter (learner_helps_actor, actors_help_learner), per helping side.", 'counter', () => [
      { labels: { side: 'actor' }, value: sumActors('guest_jobs') },
      { labels: { side: 'learner' }, value: this.learner.scalar('guest_jobs') },
    ]);
    add('tdmpc_rate_limiter_backlog_updates', 'Updates the learner is behind utd_ratio x env steps (negative: ahead).', 'gauge', () => [{ value: this.learner.scalar('backlog') }]);

    this.actorRestarts = new Counter({ name: 'tdmpc_actor_restarts_total', help: 'Actor threads restarted after a crash.', labelNames: ['actor'], registers: [reg] });
    this.actorCrashes = new Counter({ name: 'tdmpc_actor_crashes_total', help: 'Actor thread failures, by kind (error: threw, exit: died).', labelNames: ['actor', 'reason'], registers: [reg] });
    this.evalReturn = new Gauge({ name: 'tdmpc_eval_return', help: 'Mean return of the latest evaluation.', labelNames: ['task'], registers: [reg] });
    this.evalStep = new Gauge({ name: 'tdmpc_eval_step', help: 'Env step of the latest evaluation.', labelNames: ['task'], registers: [reg] });
    // Every series exists from the first scrape, so rate() and alerts see 0 before the first crash.
    for (let a = 0; a < src.actorBlocks.length; a++) {
      this.actorRestarts.inc({ actor: String(a) }, 0);
      for (const reason of ['error', 'exit']) this.actorCrashes.inc({ actor: String(a), reason }, 0);
    }
    this.refresh();
  }

  /** Copies every block once (each under its seqlock); the next render uses these copies. */
  refresh(): void {
    this.actors = this.src.actorBlocks.map((b) => readBlock(ACTOR_LAYOUT, b));
    this.learner = readBlock(LEARNER_LAYOUT, this.src.learnerBlock);
  }

  /** The exposition text of one scrape. */
  async scrape(): Promise<string> {
    this.refresh();
    return this.registry.metrics();
  }

  /** Current block copies (for the end-of-run summary and the benchmark). */
  snapshot(): { actors: BlockSnapshot[]; learner: BlockSnapshot } {
    this.refresh();
    return { actors: this.actors, learner: this.learner };
  }

  /**
   * The actors' and evaluations' fault counts over the run: the counts before this start plus the
   * actor blocks (of the last refresh, or `actors` when given) and this start's evaluation results.
   * /metrics, metrics.jsonl and checkpoints all read them here.
   */
  actorFaultTotals(actors: BlockSnapshot[] = this.actors): ActorFaultTotals {
    const before = this.faultsBefore;
    return {
      divergences: before.divergences + sumScalars(actors, 'physics_divergences'),
      planScores: before.planScores + sumScalars(actors, 'plan_nonfinite_scores'),
      policyActions: before.policyActions + sumScalars(actors, 'policy_nonfinite_actions'),
      evalPlanScores: this.evalPlanNonFiniteScores,
      evalPolicyActions: this.evalPolicyNonFiniteActions,
    };
  }
}
