// Prometheus metrics of a synchronous run (runtime=sync). The loop is both the actor and the
// learner, so it counts into one actor block (actor 0) and the learner block, in the slots the
// threads use (actors/actor.ts, learner/learner.ts), and the same registry (src/metrics/registry.ts)
// serves them: a dashboard, alert or PromQL query written for a threaded run reads a synchronous
// one unchanged. The loop's state holds the run's totals (restored on resume), so the blocks get
// absolute values and need no resume offsets. Recording is a few stores per step and per update.
import type { Config } from '../config/schema.js';
import type { ReplayBuffer } from '../replay/replay-buffer.js';
import type { AgentFaultTotals } from '../agent/agent.js';
import type { EvalFaultTotals } from './online-trainer.js';
import { BlockWriter, allocateBlock } from '../metrics/block.js';
import { ACTOR_LAYOUT, LEARNER_LAYOUT, LEARNER_MIRRORED_INFO, PLAN_DIAGNOSTICS } from '../metrics/layouts.js';
import { RunMetrics, runInfoLabels } from '../metrics/registry.js';

/** One vector step of the loop, as the actor block counts it. */
export interface SyncStepRecord {
  /** Env steps (all envs) and finished episodes of the run so far. */
  step: number;
  episodes: number;
  /** Envs stepped together (the synchronous loop's num_envs). */
  numEnvs: number;
  /** Returns of the episodes this step finished. */
  returns: readonly number[];
  /** The planner's (or policy's) time for this step, seconds; < 0 while seeding (random actions). */
  planSeconds: number;
  envSeconds: number;
  /** Updates made before this step acted: the synchronous loop always acts with its newest parameters. */
  version: number;
  /** Steps whose simulation diverged, over the run. */
  divergences: number;
  faults: AgentFaultTotals;
  planDiagnostics: Record<string, number>;
}

/** One gradient update of the loop, as the learner block counts it. */
export interface SyncUpdateRecord {
  updates: number;
  samples: number;
  /** The update's own time (sampling included, reanalysis not), seconds. */
  seconds: number;
  /** Reanalysis time of this update, seconds, and the slots it rewrote; reanalysisSeconds < 0: none. */
  reanalysisSeconds: number;
  reanalyzed: number;
  /** The updater's info of this update (Agent.lastMetrics). */
  info: Record<string, number>;
}

export class SyncMetrics {
  readonly metrics: RunMetrics;
  private readonly actor: BlockWriter;
  private readonly learner: BlockWriter;
  private readonly actorSlot: Record<string, number>;
  private readonly learnerSlot: Record<string, number>;

  constructor(cfg: Config, replay: ReplayBuffer, engineThreads: number) {
    const actorBlock = allocateBlock(ACTOR_LAYOUT);
    const learnerBlock = allocateBlock(LEARNER_LAYOUT);
    this.actor = new BlockWriter(ACTOR_LAYOUT, actorBlock);
    this.learner = new BlockWriter(LEARNER_LAYOUT, learnerBlock);
    this.actorSlot = Object.fromEntries([...ACTOR_LAYOUT.slots.keys()].map((k) => [k, ACTOR_LAYOUT.slot(k)]));
    this.learnerSlot = Object.fromEntries([...LEARNER_LAYOUT.slots.keys()].map((k) => [k, LEARNER_LAYOUT.slot(k)]));
    this.metrics = new RunMetrics({
      // Every env step goes into the replay (as the threaded header counts commits): the step count.
      inserts: () => this.actor.get(this.actorSlot.env_steps), replay, actorBlocks: [actorBlock], learnerBlock, runInfo: runInfoLabels(cfg, engineThreads), task: cfg.task,
    });
  }

  /** Counts set from the run's state before its first step, so a resumed run's first scrape continues its totals. */
  resume(step: number, episodes: number, updates: number, divergences: number, faults: AgentFaultTotals, evalFaults: EvalFaultTotals): void {
    this.metrics.evalPlanNonFiniteScores = evalFaults.planScores;
    this.metrics.evalPolicyNonFiniteActions = evalFaults.policyActions;
    const a = this.actor;
    a.begin();
    a.set(this.actorSlot.env_steps, step);
    a.set(this.actorSlot.episodes, episodes);
    a.set(this.actorSlot.acting_version, updates);
    this.setActorFaults(divergences, faults);
    a.end();
    const l = this.learner;
    l.begin();
    l.set(this.learnerSlot.updates, updates);
    l.set(this.learnerSlot.version, updates);
    l.set(this.learnerSlot.nonfinite_grads, faults.gradEntries);
    l.set(this.learnerSlot.reanalysis_nonfinite_scores, faults.reanalysisPlanScores);
    l.end();
  }

  /**
   * Both heartbeats: the loop is the actor and the learner, alive while it steps, updates (the
   * pretraining burst runs minutes without a step) or evaluates, so neither series looks stalled.
   */
  heartbeat(): void {
    const now = Date.now() / 1000;
    for (const [block, slot] of [[this.actor, this.actorSlot.heartbeat_seconds], [this.learner, this.learnerSlot.heartbeat_seconds]] as const) {
      block.begin();
      block.set(slot, now);
      block.end();
    }
  }

  recordStep(r: SyncStepRecord): void {
    this.heartbeat();
    const a = this.actor;
    const s = this.actorSlot;
    a.begin();
    a.set(s.env_steps, r.step);
    a.set(s.acting_version, r.version);
    a.set(s.seeding, r.planSeconds < 0 ? 1 : 0);
    a.observe('env_step_seconds', r.envSeconds);
    if (r.planSeconds >= 0) {
      a.observe('plan_seconds', r.planSeconds);
      for (const key of PLAN_DIAGNOSTICS) if (r.planDiagnostics[key] !== undefined) a.set(s[key], r.planDiagnostics[key]);
      for (let i = 0; i < r.numEnvs; i++) a.observeInt('policy_lag', 0);
    }
    this.setActorFaults(r.divergences, r.faults);
    a.set(s.episodes, r.episodes);
    if (r.returns.length > 0) {
      a.set(s.last_episode_return, r.returns[r.returns.length - 1]);
      for (const ret of r.returns) a.observe('episode_return', ret);
    }
    a.end();
  }

  recordUpdate(r: SyncUpdateRecord): void {
    this.heartbeat();
    const l = this.learner;
    const s = this.learnerSlot;
    const info = r.info;
    l.begin();
    l.set(s.updates, r.updates);
    l.set(s.version, r.updates);
    l.set(s.samples, r.samples);
    l.observe('update_seconds', r.seconds);
    if (r.reanalysisSeconds >= 0) {
      l.observe('reanalysis_seconds', r.reanalysisSeconds);
      l.add(s.reanalyzed, r.reanalyzed);
      l.set(s.reanalysis_nonfinite_scores, info.reanalysis_nonfinite_scores ?? 0);
    }
    for (const key of LEARNER_MIRRORED_INFO) if (info[key] !== undefined) l.set(s[key], info[key]);
    l.set(s.update_nonfinite_grads, info.nonfinite_grads ?? 0);
    if (info.nonfinite_grads_total !== undefined) l.set(s.nonfinite_grads, info.nonfinite_grads_total);
    l.end();
  }

  /** A finished evaluation: its mean return and step, and the evaluations' numeric faults over the run. */
  recordEvaluation(step: number, reward: number, evalFaults: EvalFaultTotals, task: string): void {
    this.metrics.evalReturn.set({ task }, reward);
    this.metrics.evalStep.set({ task }, step);
    this.metrics.evalPlanNonFiniteScores = evalFaults.planScores;
    this.metrics.evalPolicyNonFiniteActions = evalFaults.policyActions;
  }

  private setActorFaults(divergences: number, faults: AgentFaultTotals): void {
    const s = this.actorSlot;
    this.actor.set(s.physics_divergences, divergences);
    this.actor.set(s.plan_nonfinite_scores, faults.actingPlanScores);
    this.actor.set(s.policy_nonfinite_actions, faults.policyActions);
  }
}
