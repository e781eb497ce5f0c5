// What one actor step and one learner update write into their metrics blocks. The threaded actor
// and learner and the synchronous loop (src/trainer/sync-metrics.ts) all record through these, so
// the series mean the same in both runtimes. Counters take this step's increments; the caller
// holds the block open (begin/end) around them together with anything of its own.
import type { BlockWriter } from './block.js';
import { LEARNER_MIRRORED_INFO, PLAN_DIAGNOSTICS } from './layouts.js';

/** One vector step of an actor's envs. */
export interface ActorStepRecord {
  numEnvs: number;
  /** Episodes this step finished, and their returns. */
  ended: number;
  returns: readonly number[];
  /** The plan's (or policy's) time, seconds; < 0 while seeding (random actions). */
  planSeconds: number;
  envSeconds: number;
  actingVersion: number;
  seeding: boolean;
  /** Learner version minus the acting version per stored transition; < 0: not recorded (seeding). */
  lag: number;
  /** The planner's diagnostics of this step (Agent.lastMetrics), or null (seeding, mpc=false). */
  planDiagnostics: Record<string, number> | null;
  /** This step's simulation divergences, planner NaN/Inf scores and policy NaN/Inf actions. */
  diverged: number;
  planNonFinite: number;
  policyNonFinite: number;
}

/** Writes one actor step into an ACTOR_LAYOUT block (slots: BlockLayout.slotIndex()). */
export function recordActorStep(w: BlockWriter, s: Record<string, number>, r: ActorStepRecord): void {
  w.add(s.env_steps, r.numEnvs);
  w.set(s.heartbeat_seconds, Date.now() / 1000);
  w.set(s.acting_version, r.actingVersion);
  w.set(s.seeding, r.seeding ? 1 : 0);
  w.observe('env_step_seconds', r.envSeconds);
  if (r.planSeconds >= 0) w.observe('plan_seconds', r.planSeconds);
  if (r.planDiagnostics) for (const key of PLAN_DIAGNOSTICS) w.set(s[key], r.planDiagnostics[key]);
  if (r.lag >= 0) for (let i = 0; i < r.numEnvs; i++) w.observeInt('policy_lag', r.lag);
  if (r.diverged > 0) w.add(s.physics_divergences, r.diverged);
  if (r.planNonFinite > 0) w.add(s.plan_nonfinite_scores, r.planNonFinite);
  if (r.policyNonFinite > 0) w.add(s.policy_nonfinite_actions, r.policyNonFinite);
  if (r.ended > 0) {
    w.add(s.episodes, r.ended);
    w.set(s.last_episode_return, r.returns[r.returns.length - 1]);
    for (const ret of r.returns) w.observe('episode_return', ret);
  }
}

/** One gradient update of a learner. */
export interface UpdateRecord {
  /** Updates and sampled slices of the run so far. */
  updates: number;
  samples: number;
  /** The update's own time (sampling included, reanalysis not), seconds. */
  seconds: number;
  /** This update's reanalysis time, seconds (< 0: none), and the slots it rewrote. */
  reanalysisSeconds: number;
  reanalyzed: number;
  /** The updater's info of this update (Agent.lastMetrics). */
  info: Record<string, number>;
}

/** Writes one update into a LEARNER_LAYOUT block (slots: BlockLayout.slotIndex()). */
export function recordUpdate(w: BlockWriter, s: Record<string, number>, r: UpdateRecord): void {
  const info = r.info;
  w.set(s.updates, r.updates);
  w.set(s.samples, r.samples);
  w.set(s.heartbeat_seconds, Date.now() / 1000);
  w.observe('update_seconds', r.seconds);
  if (r.reanalysisSeconds >= 0) {
    w.observe('reanalysis_seconds', r.reanalysisSeconds);
    w.add(s.reanalyzed, r.reanalyzed);
    // The reanalysis planner's cumulative count of NaN/Inf scores.
    w.set(s.reanalysis_nonfinite_scores, info.reanalysis_nonfinite_scores ?? 0);
  }
  for (const key of LEARNER_MIRRORED_INFO) if (info[key] !== undefined) w.set(s[key], info[key]);
  w.set(s.update_nonfinite_grads, info.nonfinite_grads ?? 0);
  // The updater keeps the process total (restored with the agent on resume), so the block mirrors it.
  w.set(s.nonfinite_grads, info.nonfinite_grads_total);
}
