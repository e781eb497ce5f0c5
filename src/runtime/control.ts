// Types shared by the main thread and the worker threads (piscina's types.ts): what each worker
// receives as workerData and the comlink API it exposes. Messages carry only small values; all
// bulk data lives in the SharedArrayBuffers of RuntimeBuffers.
import type { Config } from '../config/schema.js';
import type { Derived } from '../config/derive.js';
import type { ReplayShape, ReplayStorage } from '../replay/replay-buffer.js';
import type { SnapshotBuffers } from './param-snapshot.js';
import type { RateLimiterOptions, LedgerState } from './rate-limiter.js';

/** Every SharedArrayBuffer of a run, allocated by the main thread before any thread starts (buffers.ts). */
export interface RuntimeBuffers {
  actors: number;
  header: SharedArrayBuffer;
  snapshot: SnapshotBuffers;
  replayShape: ReplayShape;
  /** Typed-array views over SharedArrayBuffers (structured clone shares the memory). */
  replay: ReplayStorage;
  actorBlocks: SharedArrayBuffer[];
  learnerBlock: SharedArrayBuffer;
}

/** Options shared by every thread of a run. */
export interface RunPlan {
  cfg: Config;
  derived: Derived;
  limiter: RateLimiterOptions;
  /** Steps of the whole run, ceil(steps / num_envs) * num_envs. */
  totalSteps: number;
  /**
   * learner_helps_actor: the id under which actor 0 offers its engine's guest seat and which the
   * learner helps while it waits (random per run: several runs may share one process); else null.
   */
  helpSeatId: number | null;
  /**
   * actors_help_learner: the id under which the learner offers its engine's guest seat and which a
   * waiting actor helps (random per run); else null.
   */
  learnerSeatId: number | null;
  /**
   * How many times this run was resumed before this start: 0 for a fresh run, the checkpoint's
   * count + 1 on resume=. Actors key their random streams by it, so a resumed run draws new
   * numbers instead of replaying the stopped run's (see actorStreamSeeds in actors/actor.ts).
   */
  resumes: number;
}

export interface ActorInit extends RunPlan {
  actor: number;
  /** 0 for the first thread of this actor slot in this start of the run, +1 per crash restart (new random streams). */
  incarnation: number;
  buffers: RuntimeBuffers;
}

export interface ActorStats {
  actor: number;
  incarnation: number;
  envSteps: number;
  episodes: number;
  actingVersion: number;
  paused: boolean;
}

/** comlink API of an actor thread (actors/actor-worker.ts). */
export interface ActorApi {
  /** Runs the acting loop until the run's steps are handed out or a stop is requested. */
  run(startPaused: boolean): Promise<ActorStats>;
  /** Parks the loop at the next step boundary; resolves once parked (nothing is being written). */
  pause(): Promise<void>;
  resume(): void;
  stats(): ActorStats;
  /** Test hook: throw from the middle of the next vector step (after some envs were stored). */
  injectFault(): void;
}

export interface LearnerInit extends RunPlan {
  buffers: RuntimeBuffers;
  /** Checkpoint to restore the agent and learner state from (resume=). */
  resumeFrom: string | null;
}

/** Learner state saved in checkpoints (meta.trainer of a threaded run). */
export interface LearnerState {
  runtime: 'threads';
  step: number;
  updates: number;
  episodes: number;
  samples: number;
  lastReturn: number | null;
  ledger: LedgerState;
  sampleRng: { seed: number; counter: number };
  /** RunPlan.resumes of the start that wrote the checkpoint; absent in older checkpoints (read as 0). */
  resumes?: number;
  /** The actors' and evaluations' fault counts over the run so far; absent in older checkpoints (0). */
  actorFaults?: ActorFaultTotals;
}

/**
 * Numeric faults counted outside the learner (its own travel in its agent's checkpoint): the
 * actors' shared-memory blocks and the evaluation results restart at 0 in every process, so a
 * checkpoint carries these totals and a resumed run counts on from them.
 */
export interface ActorFaultTotals {
  divergences: number;
  planScores: number;
  policyActions: number;
  evalPlanScores: number;
  evalPolicyActions: number;
}
/** What the main thread knows of the run and adds to the learner's checkpoint. */
export interface LearnerCheckpointMeta {
  episodes: number;
  lastReturn: number | null;
  actorFaults: ActorFaultTotals;
  written: string;
}
export const NO_ACTOR_FAULTS: ActorFaultTotals = { divergences: 0, planScores: 0, policyActions: 0, evalPlanScores: 0, evalPolicyActions: 0 };

export interface LearnerStats {
  updates: number;
  samples: number;
  version: number;
  inserts: number;
  backlog: number;
  metrics: Record<string, number>;
}

/** comlink API of the learner thread (learner/learner-worker.ts). */
export interface LearnerApi {
  /** Publishes version `updates` and returns once the run is trained out or a stop is requested. */
  run(): Promise<LearnerStats>;
  stats(): LearnerStats;
  /** Writes a checkpoint (actors must be paused or stopped, so replay is quiet); returns its path. */
  checkpoint(file: string, meta: LearnerCheckpointMeta): Promise<string>;
  /** Test hook: the next update throws (a learner failure). */
  injectFault(): void;
}

/** A piscina evaluation task and its result (actors/eval-worker.ts). */
export interface EvalTask {
  /** Evaluations run before this one (seeds its episodes, as in the synchronous loop). */
  index: number;
}

export interface EvalTaskResult {
  reward: number;
  metrics: Record<string, number>;
  summary: string;
  version: number;
}
