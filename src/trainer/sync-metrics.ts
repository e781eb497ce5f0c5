// Prometheus metrics of a synchronous run (runtime=sync). The loop is both the actor and the
// learner, so it counts into one actor block (actor 0) and the learner block, in the slots the
// threads use (actors/actor.ts, learner/learner.ts), and the same registry (src/metrics/registry.ts)
// serves them: a dashboard, alert or PromQL query written for a threaded run reads a synchronous
// one unchanged. Steps and updates are recorded by the actor's and learner's own functions
// (src/metrics/record.ts); the blocks start from the run's totals (restored on resume), so they need
// no resume offsets. Recording is a few stores per step and per update.
import type { Config } from '../config/schema.js';
import type { ReplayBuffer } from '../replay/replay-buffer.js';
import type { AgentFaultTotals } from '../agent/agent.js';
import type { EvalFaultTotals } from './online-trainer.js';
import { BlockWriter, allocateBlock } from '../metrics/block.js';
import { ACTOR_LAYOUT, LEARNER_LAYOUT } from '../metrics/layouts.js';
import { recordActorStep, recordUpdate, type ActorStepRecord, type UpdateRecord } from '../metrics/record.js';
import { RunMetrics, runInfoLabels } from '../metrics/registry.js';

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
    this.actorSlot = ACTOR_LAYOUT.slotIndex();
    this.learnerSlot = LEARNER_LAYOUT.slotIndex();
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
    a.set(this.actorSlot.physics_divergences, divergences);
    a.set(this.actorSlot.plan_nonfinite_scores, faults.actingPlanScores);
    a.set(this.actorSlot.policy_nonfinite_actions, faults.policyActions);
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

  /** One vector step: the actor's record (the loop acts with its newest parameters: lag 0). */
  recordStep(r: ActorStepRecord): void {
    this.heartbeat();
    this.actor.begin();
    recordActorStep(this.actor, this.actorSlot, r);
    this.actor.end();
  }

  /** One update: the learner's record; the version is the update count, as the learner publishes it. */
  recordUpdate(r: UpdateRecord): void {
    this.heartbeat();
    this.learner.begin();
    this.learner.set(this.learnerSlot.version, r.updates);
    recordUpdate(this.learner, this.learnerSlot, r);
    this.learner.end();
  }

  /** A finished evaluation: its mean return and step, and the evaluations' numeric faults over the run. */
  recordEvaluation(step: number, reward: number, evalFaults: EvalFaultTotals, task: string): void {
    this.metrics.evalReturn.set({ task }, reward);
    this.metrics.evalStep.set({ task }, step);
    this.metrics.evalPlanNonFiniteScores = evalFaults.planScores;
    this.metrics.evalPolicyNonFiniteActions = evalFaults.policyActions;
  }
}
