// All wiring of a threaded run (runtime=threads) lives here, like src/trainer/run.ts for the
// synchronous loop (Sample Factory's connect_components):
//
//   validate (actors vs cores, replay vs batch, metrics port) ──► allocate every SharedArrayBuffer
//   ──► restore replay/counters (resume=) ──► /metrics ──► learner thread (publishes version 0)
//   ──► actor threads ──► piscina evaluator ──► supervise: log, evaluate, checkpoint, stop
//
// What runs where: the main thread only supervises (comlink), logs, serves /metrics and submits
// evaluations; each actor thread steps its environments and plans; the learner thread updates,
// reanalyzes, publishes parameters and writes checkpoints; one piscina thread evaluates.
import os from 'node:os';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { checkEnvsFitThreads } from '../envs/capacity.js';
import { checkLearningPhase, checkReplayUsable, coresLeftByActors, deriveConfig, envOptionsFor, idleThreadsMayHelp, learnerThreads, type Derived } from '../config/derive.js';
import { ConfigError, CheckpointError } from '../errors.js';
import { makeTask } from '../envs/registry.js';
import { VectorEnv } from '../envs/vector-env.js';
import { ReplayBuffer } from '../replay/replay-buffer.js';
import type { CheckpointContents } from '../checkpoint/checkpoint-file.js';
import { restoreReplay, savedRingCapacity } from '../replay/replay-checkpoint.js';
import { WorldModel } from '../model/world-model.js';
import { JsEngine } from '../engine/js-engine.js';
import { worldModelConfigFor } from '../agent/agent.js';
import { RunLogger } from '../trainer/logger.js';
import { createRunFolder } from '../trainer/run-folder.js';
import { RunMetrics, runInfoLabels } from '../metrics/registry.js';
import { sumScalars, type BlockSnapshot } from '../metrics/block.js';
import { MetricsServer } from '../metrics/server.js';
import { LOSS_TERMS } from '../metrics/layouts.js';
import { allocateRuntimeBuffers, replayShapeFor, sharedBytes, type BufferPlan } from './buffers.js';
import { RunHeader } from './header.js';
import { RateLimiter, rateLimiterOptionsFor } from './rate-limiter.js';
import { Supervisor } from './supervisor.js';
import { Evaluator } from './evaluator.js';
import { ActorFailure, RuntimeError } from './errors.js';
import { lagQuantiles, trainDiagnostics } from './summary.js';
import { utdReport } from '../trainer/utd-report.js';
import { type ActorFaultTotals, type LearnerState, type RunPlan, type LearnerStats, type EvalTaskResult } from './control.js';
import { DivergenceNotes, NumericFaultNotes, evaluationFaultNote, type NumericFaultCounts } from '../trainer/numeric-faults.js';

export interface ThreadedHandle {
  supervisor: Supervisor;
  header: RunHeader;
  replay: ReplayBuffer;
  metrics: RunMetrics;
  metricsUrl: string | null;
  limiter: RateLimiter;
  dir: string;
  /** Pauses the actors at a step boundary, has the learner write step-<inserts>.ckpt, resumes. */
  checkpointNow(): Promise<string>;
}

export interface ThreadedOptions {
  /** Polled by the supervision loop; true stops gracefully with a checkpoint (Ctrl-C). */
  shouldStop?: () => boolean;
  /** Called once every thread is started (tests reach the supervisor through it). */
  onStart?: (run: ThreadedHandle) => void | Promise<void>;
}

export interface ThreadedSummary {
  envSteps: number;
  updates: number;
  /** Updates per env step over the learning phase: (updates - pretrain) / (steps - learn start). */
  utd: number;
  /** The synchronous loop's update count for the same steps (rate limiter arithmetic). */
  expectedUpdates: number;
  policyLagP50: number;
  policyLagP99: number;
  restarts: number[];
  /** Kernel jobs computed for the other side while waiting (learner_helps_actor, actors_help_learner). */
  guestJobs: { byActors: number; byLearner: number };
  wallSeconds: number;
  checkpoint: string | null;
  stopped: boolean;
}

export interface ThreadedResult {
  dir: string;
  state: LearnerState;
  config: Config;
  derived: Derived;
  summary: ThreadedSummary;
}

const TICK_MS = 200;
// During the pretraining burst no step milestone passes (the actors wait for the learner, minutes
// at default settings), so its progress is reported on a timer instead.
const PRETRAIN_LOG_MS = 10_000;

/** Everything a threaded run checks before it allocates or starts anything. */
async function planRun(cfg: Config, resumeSlots: number | null, resumes: number): Promise<{ plan: RunPlan; bufferPlan: BufferPlan }> {
  const cores = os.availableParallelism();
  if (cfg.actors > cores) {
    throw new ConfigError(`actors=${cfg.actors} is more than the ${cores} cores of this machine (each actor keeps a core busy); use actors=${Math.max(1, cores - 1)} to leave the learner a core of its own, or at most actors=${cores}`);
  }
  const spec = makeTask(cfg.task);
  const probe = await VectorEnv.create(spec, 1, envOptionsFor(cfg));
  const task = { name: spec.name, obsDim: probe.obsDim, actionDim: probe.actionDim, episodeLength: probe.maxEpisodeSteps, episodic: spec.episodic };
  try {
    // Each actor builds num_envs environments in its thread; the evaluation thread eval_episodes.
    await checkEnvsFitThreads(spec, [
      { count: cfg.num_envs, source: `num_envs=${cfg.num_envs}`, fix: 'lower num_envs (each actor builds num_envs in its own thread: more actors= hold more)' },
      { count: cfg.eval_episodes, source: `eval_episodes=${cfg.eval_episodes}`, fix: 'lower eval_episodes (the evaluation thread builds one environment per episode)' },
    ], probe.envs[0].physics);
  } finally {
    probe.dispose();
  }
  const derived = deriveConfig(cfg, task);
  checkLearningPhase(cfg, derived);
  const layout = WorldModel.layout(new JsEngine(1), worldModelConfigFor(cfg, derived));
  // derived.bufferSize caps replay at the run's length. Shards fill unevenly (a faster actor takes
  // more steps), so while buffer_size allows it every shard may hold up to that whole length:
  // nothing is overwritten in a run that fits buffer_size, whichever actor took the steps.
  const bufferPlan: BufferPlan = {
    // A run resumed with more steps grows its rings to the new length (never shrinks them) and
    // keeps what they hold (restoreReplay).
    actors: cfg.actors, numEnvs: cfg.num_envs, capacity: Math.max(resumeSlots ?? 0, Math.min(cfg.buffer_size, derived.bufferSize * cfg.actors)),
    obsDim: derived.obsDim, actionDim: derived.actionDim,
    // The value target travels only if planning reads it (actors and evaluations plan; the learner keeps its own).
    paramLength: layout.size, targetLength: cfg.planner_ema_value ? layout.segment('value').length : 0,
  };
  const shape = replayShapeFor(bufferPlan);
  checkReplayUsable(cfg, derived, shape);
  if (shape.ringCapacity < cfg.horizon + 3) {
    // deriveConfig keeps a steps-capped replay at >= 2 x (horizon + 2) slots per ring: only buffer_size binds here.
    throw new ConfigError(`buffer_size (${cfg.buffer_size}) split over ${shape.numRings} rings (actors x num_envs) leaves ${shape.ringCapacity} slots per ring, too few for slices of horizon+1 = ${cfg.horizon + 1} steps; raise buffer_size to at least ${shape.numRings * (cfg.horizon + 3)}`);
  }
  const limiter = rateLimiterOptionsFor(cfg, derived);
  const totalSteps = limiter.totalSteps;
  // Guest-seat ids: random per run (several runs may share a process), the learner's one above actor 0's.
  const mayHelp = idleThreadsMayHelp(cfg);
  const seatBase = randomInt(1, 2 ** 31 - 2);
  const helpSeatId = cfg.learner_helps_actor && mayHelp ? seatBase : null;
  const learnerSeatId = cfg.actors_help_learner && mayHelp ? seatBase + 1 : null;
  return { plan: { cfg, derived, limiter, totalSteps, helpSeatId, learnerSeatId, resumes }, bufferPlan };
}

/** The start-up log's account of learner_helps_actor / actors_help_learner. */
function helpSummary(plan: RunPlan): string {
  const { cfg } = plan;
  if (!cfg.learner_helps_actor && !cfg.actors_help_learner) return 'off';
  if (plan.helpSeatId === null && plan.learnerSeatId === null) return 'off (actors + learner threads > cores)';
  const parts = [];
  if (plan.helpSeatId !== null) parts.push('learner -> actor 0');
  if (plan.learnerSeatId !== null) parts.push('actors -> learner');
  return parts.join(', ');
}

export async function runThreaded(cfg: Config, resumeFrom: CheckpointContents | null, dir: string, options: ThreadedOptions = {}): Promise<ThreadedResult> {
  const t0 = Date.now();
  let state: LearnerState | null = null;
  if (resumeFrom) {
    state = resumeFrom.meta.trainer as LearnerState;
    if (state?.runtime !== 'threads') throw new CheckpointError(`checkpoint '${cfg.resume}' was written by runtime=sync; resume it with runtime=sync`);
  }
  // Actors cannot restore their random streams (they live in the threads, and a resume starts
  // fresh episodes anyway), so each start of a run gets new ones: keyed by how many starts came
  // before it. A checkpoint from before the count was saved is the run's first start (0).
  const saved = state?.resumes ?? 0;
  if (!Number.isSafeInteger(saved) || saved < 0) throw new CheckpointError(`checkpoint '${cfg.resume}' has a corrupt resume count (${JSON.stringify(saved)}); it must be an integer >= 0`);
  const resumes = state ? saved + 1 : 0;
  const numRings = cfg.actors * cfg.num_envs;
  const savedCapacity = resumeFrom ? savedRingCapacity(resumeFrom, numRings) : null;
  const { plan, bufferPlan } = await planRun(cfg, savedCapacity === null ? null : savedCapacity * numRings, resumes);
  const { derived, totalSteps } = plan;
  const limiter = new RateLimiter(plan.limiter);

  // ---- shared memory, allocated once before any thread exists
  const buffers = allocateRuntimeBuffers(bufferPlan);
  const header = new RunHeader(buffers.header, cfg.actors);
  const replay = new ReplayBuffer(buffers.replayShape, buffers.replay);
  if (resumeFrom && state) {
    restoreReplay(resumeFrom, replay);
    header.initialize(state.step, state.updates, state.episodes);
  }
  const learnerEngineThreads = learnerThreads(cfg);
  const metrics = new RunMetrics({
    inserts: () => header.inserts(), replay, runInfo: runInfoLabels(cfg, learnerEngineThreads), actorBlocks: buffers.actorBlocks, learnerBlock: buffers.learnerBlock, task: cfg.task,
    resumed: state ? { envSteps: state.step, episodes: state.episodes, faults: state.actorFaults } : undefined,
  });
  const server = cfg.metrics ? await MetricsServer.start(metrics, cfg['metrics.host'], cfg['metrics.port']) : null;

  const say = (line: string) => { if (cfg.progress) console.log(line); };
  let discardRunFolder: () => void;
  try {
    discardRunFolder = createRunFolder(cfg, dir, derived);
  } catch (err) {
    await server?.close();
    throw err;
  }
  // The first evaluation is due at the first multiple of eval_freq at or after the checkpoint's step.
  const firstEval = state ? Math.ceil(state.step / cfg.eval_freq) * cfg.eval_freq : 0;
  const logger = new RunLogger(dir, cfg.seed, cfg.progress, state ? { step: state.step, reevaluatesStep: cfg.eval_episodes > 0 && firstEval === state.step } : null);
  const mem = sharedBytes(buffers);
  const shape = buffers.replayShape;
  say(`tdmpc train ${cfg.task} | algo ${cfg.algo} | runtime threads: ${cfg.actors} actor(s) x ${cfg.num_envs} env(s), learner x${learnerEngineThreads} engine threads | ${bufferPlan.paramLength.toLocaleString()} params | seed steps ${derived.seedSteps} | ${dir}`);
  const cores = os.availableParallelism();
  if (!idleThreadsMayHelp(cfg, cores)) say(`note: ${cfg.actors} actor thread(s) + ${learnerEngineThreads} learner engine threads > ${cores} cores; they will share cores (${cfg.actors < cores ? `learner_threads=${coresLeftByActors(cfg.actors, cores)}` : `actors=${Math.max(1, cores - 1)}`} avoids that)`);
  say(`replay: ${shape.numRings} rings (${cfg.actors} shard(s) x ${cfg.num_envs}) x ${shape.ringCapacity} slots = ${(shape.numRings * shape.ringCapacity).toLocaleString()} transitions, ${(mem.replay / 2 ** 20).toFixed(1)} MiB shared; parameter snapshot ${(mem.snapshot / 2 ** 20).toFixed(1)} MiB; utd ${cfg.utd_ratio} (band ${limiter.band} updates, ${limiter.finalUpdates} updates in all); idle threads help: ${helpSummary(plan)}${server ? ` | metrics ${server.url}` : ''}`);

  const supervisor = new Supervisor(plan, buffers, header, metrics, {
    maxFailures: 5, backoffBaseMs: 100, backoffMaxMs: 5000,
    log: (line) => { console.error(`tdmpc: ${line}`); logger.metrics(header.inserts(), 'train', { event: 'actor_crash', message: line }); },
  });
  const ckptDir = path.join(dir, 'checkpoints');
  let lastCheckpoint: string | null = cfg.resume;
  let evaluator: Evaluator | null = null;
  let stopped = false;
  let learnerStats: LearnerStats | null = null;

  const evalDone = (step: number, r: EvalTaskResult) => {
    logger.evaluation(step, r.reward);
    logger.metrics(step, 'eval', { ...r.metrics, parameter_version: r.version });
    metrics.evalPlanNonFiniteScores += r.metrics.plan_nonfinite_scores ?? 0;
    metrics.evalPolicyNonFiniteActions += r.metrics.policy_nonfinite_actions ?? 0;
    const faults = evaluationFaultNote(step, r.metrics);
    if (faults) logger.warn(faults);
    metrics.evalReturn.set({ task: cfg.task }, r.reward);
    metrics.evalStep.set({ task: cfg.task }, step);
    logger.note(`eval @ ${step}: return ${r.reward.toFixed(1)} (parameter version ${r.version})${r.summary ? ' | ' + r.summary : ''}`);
  };
  const evalFailed = (err: Error) => { console.error(`tdmpc: evaluation failed: ${err.message}`); };
  const lastReturn = (): number | null => {
    const { actors } = metrics.snapshot();
    let best: number | null = null;
    let beat = -1;
    for (const b of actors) if (b.scalar('episodes') > 0 && b.scalar('heartbeat_seconds') > beat) { beat = b.scalar('heartbeat_seconds'); best = b.scalar('last_episode_return'); }
    return best ?? state?.lastReturn ?? null;
  };
  /** The counts the training warnings follow: the learner's (restored with its agent) and the actors'. */
  const trainingFaultCounts = (learner: BlockSnapshot, actorTotals: ActorFaultTotals): NumericFaultCounts => ({
    gradEntries: learner.scalar('nonfinite_grads'),
    planScores: actorTotals.planScores + learner.scalar('reanalysis_nonfinite_scores'),
    policyActions: actorTotals.policyActions,
  });
  const checkpoint = async (name: string): Promise<string> => {
    const file = path.join(ckptDir, name);
    await supervisor.learnerApi().checkpoint(file, { episodes: header.episodes(), lastReturn: lastReturn(), actorFaults: metrics.actorFaultTotals(metrics.snapshot().actors), written: new Date().toISOString() });
    lastCheckpoint = file;
    return file;
  };
  /** Checkpoint while training: actors parked (replay quiet), the learner between two updates. */
  const checkpointNow = async (): Promise<string> => {
    await supervisor.pauseActors();
    try {
      return await checkpoint(`step-${header.inserts()}.ckpt`);
    } finally {
      supervisor.resumeActors();
    }
  };
  const handle: ThreadedHandle = { supervisor, header, replay, metrics, metricsUrl: server?.url ?? null, limiter, dir, checkpointNow };

  try {
    // The evaluation thread builds its agent while the learner starts: warm, it reads the
    // snapshot as soon as an evaluation is submitted.
    if (cfg.eval_episodes > 0) evaluator = new Evaluator(plan, buffers.snapshot, firstEval / cfg.eval_freq);
    await Promise.all([supervisor.startLearner(resumeFrom ? cfg.resume : null), evaluator?.warmUp()]);
    const learnerRun = supervisor.runLearner();
    learnerRun.then((s) => { learnerStats = s; }, () => undefined);

    // Warnings report faults beyond the counts at this start (a resumed learner holds its checkpoint's).
    const atStart = metrics.snapshot();
    const totalsAtStart = metrics.actorFaultTotals(atStart.actors);
    const divergenceNotes = new DivergenceNotes(totalsAtStart.divergences);
    const faultNotes = new NumericFaultNotes(trainingFaultCounts(atStart.learner, totalsAtStart));

    // An evaluation is due every eval_freq steps and reads the snapshot when it starts: it is
    // logged at its due step if it starts within 5% of eval_freq of it (supervision ticks), else
    // at the step it actually started (the previous evaluation was still running).
    let nextEval = firstEval;
    const submitDueEvaluation = (I: number) => {
      if (!evaluator || I < nextEval || I >= totalSteps || evaluator.busy) return;
      evaluator.submit(I - nextEval <= cfg.eval_freq / 20 ? nextEval : I, evalDone, evalFailed);
      nextEval = (Math.floor(I / cfg.eval_freq) + 1) * cfg.eval_freq;
    };
    // The first one (step 0, or the resumed step when it is on the schedule) is submitted before
    // any actor steps, so it evaluates the parameters of that step, not the ones after seeding.
    submitDueEvaluation(header.inserts());
    supervisor.startActors();
    await options.onStart?.(handle);

    // ---- supervision loop
    let nextLog = state ? Math.floor(state.step / cfg.log_freq) * cfg.log_freq + cfg.log_freq : cfg.log_freq;
    let nextCkpt = cfg.checkpoint_freq > 0 ? (state ? Math.floor(state.step / cfg.checkpoint_freq) + 1 : 1) * cfg.checkpoint_freq : Infinity;
    let wallAt = performance.now();
    let stepsAt = header.inserts();
    let pretrainLoggedAt = -Infinity; // -Infinity: the burst is not announced yet
    let done = false;
    const learnerFinished = learnerRun.then(() => 'done' as const, () => 'failed' as const);
    while (!done) {
      // The next step the loop acts at (a periodic checkpoint, or an evaluation the evaluator is
      // free to take): the loop wakes when the actors commit it, not up to a tick later, so those
      // land on their grid in fast runs too (a 200 ms tick is hundreds of steps of a small model).
      const at = header.inserts();
      const due = Math.min(nextCkpt, evaluator && !evaluator.busy ? nextEval : Infinity);
      let timer: NodeJS.Timeout | undefined;
      const tick = await Promise.race([
        learnerFinished,
        supervisor.failure,
        due > at && due < totalSteps
          ? header.waitUntilInserts(due, TICK_MS).then(() => 'tick' as const)
          : new Promise<'tick'>((r) => { timer = setTimeout(() => r('tick'), TICK_MS); }),
      ]);
      clearTimeout(timer);
      if (tick === 'failed') await supervisor.failure; // throws the learner's error
      done = tick === 'done';
      const I = header.inserts();
      submitDueEvaluation(I);
      // The line of the last step is written once, when the learner is done (it may still owe
      // updates when the last step is taken), so it carries the run's final update count.
      if ((I >= nextLog && I < totalSteps) || done) {
        const now = performance.now();
        const sps = ((I - stepsAt) * 1000) / Math.max(1, now - wallAt);
        wallAt = now;
        stepsAt = I;
        nextLog = (Math.floor(I / cfg.log_freq) + 1) * cfg.log_freq;
        const { learner, actors } = metrics.snapshot();
        const u = learner.scalar('updates');
        const lag = lagQuantiles(actors, [0.5, 0.99]);
        const losses: Record<string, number> = {};
        for (const key of Object.keys(LOSS_TERMS)) losses[key] = learner.scalar(key);
        const ret = lastReturn();
        const totals = metrics.actorFaultTotals(actors);
        const divergences = totals.divergences;
        const diverged = divergenceNotes.since(divergences);
        if (diverged) logger.warn(diverged);
        const nonfiniteGrads = learner.scalar('nonfinite_grads');
        const planNonfinite = totals.planScores;
        const reanNonfinite = learner.scalar('reanalysis_nonfinite_scores');
        const policyNonfinite = totals.policyActions;
        const faults = faultNotes.since(trainingFaultCounts(learner, totals));
        if (faults) logger.warn(faults);
        logger.metrics(I, 'train', {
          ...losses, ...trainDiagnostics(learner, actors, cfg.mpc), grad_norm: learner.scalar('grad_norm'), nonfinite_grads_total: nonfiniteGrads, plan_nonfinite_scores: planNonfinite, reanalysis_nonfinite_scores: reanNonfinite,
          ...(policyNonfinite > 0 ? { policy_nonfinite_actions: policyNonfinite } : {}), updates: u, episodes: header.episodes(), steps_per_s: sps,
          utd_realized: u / Math.max(1, I), policy_lag_p50: lag[0], policy_lag_p99: lag[1], parameter_version: learner.scalar('version'),
          actor_restarts: supervisor.restarts().reduce((s, x) => s + x, 0), ...(divergences > 0 ? { physics_divergences: divergences } : {}), ...(ret !== null ? { episode_return: ret } : {}),
        });
        logger.progress(I, totalSteps, sps, ret, `${u} updates | lag p50 ${lag[0]}`, I <= limiter.learnStart ? 'seeding' : null);
      }
      const updatesNow = header.updates();
      if (!done && I > limiter.learnStart && updatesNow < derived.pretrainUpdates && performance.now() - pretrainLoggedAt >= PRETRAIN_LOG_MS) {
        if (pretrainLoggedAt === -Infinity) logger.announcePretraining(derived.pretrainUpdates, state?.updates ?? 0);
        else logger.progress(I, totalSteps, 0, lastReturn(), `pretraining ${updatesNow}/${derived.pretrainUpdates} updates`, 'pretraining');
        pretrainLoggedAt = performance.now();
      }
      if (!done && I >= nextCkpt && I < totalSteps) { // the last step's checkpoint is final.ckpt
        nextCkpt = (Math.floor(I / cfg.checkpoint_freq) + 1) * cfg.checkpoint_freq;
        await checkpointNow();
      }
      if (!done && options.shouldStop?.()) {
        stopped = true;
        break;
      }
    }

    // ---- wind down: actors stop (or are done), the learner returns, then evaluate and checkpoint
    await supervisor.stopActors();
    const stats = learnerStats ?? await Promise.race([learnerRun, supervisor.failure]);
    logger.endProgress();
    const I = header.inserts();
    if (evaluator) {
      // Waiting for the final evaluation heeds a stop like the loop does: Ctrl-C or SIGTERM cancels
      // it (the run's training is complete, so its checkpoint is still final.ckpt).
      const stopRequested = () => stopped || (options.shouldStop?.() ?? false);
      if (!stopped && await evaluator.idleUnless(stopRequested)) {
        evaluator.submit(I, evalDone, evalFailed);
        await evaluator.idleUnless(stopRequested);
      }
      if (stopRequested() && await evaluator.cancel()) {
        say(stopped ? 'stopping: the evaluation in flight was cancelled'
          : 'stopping: the final evaluation was cancelled (`tdmpc eval checkpoint=<final.ckpt>` evaluates the trained agent)');
      }
    }
    const file = await checkpoint(!stopped && I >= totalSteps ? 'final.ckpt' : `step-${I}.ckpt`);
    const blocks = metrics.snapshot();
    const lag = lagQuantiles(blocks.actors, [0.5, 0.99]);
    const guestJobs = {
      byActors: sumScalars(blocks.actors, 'guest_jobs'),
      byLearner: blocks.learner.scalar('guest_jobs'),
    };
    const expectedUpdates = limiter.exactTarget(I);
    const utd = utdReport(limiter, I, stats.updates, expectedUpdates);
    const summary: ThreadedSummary = {
      envSteps: I, updates: stats.updates, utd: utd.utd,
      expectedUpdates, policyLagP50: lag[0], policyLagP99: lag[1],
      restarts: supervisor.restarts(), guestJobs, wallSeconds: (Date.now() - t0) / 1000, checkpoint: file, stopped,
    };
    say(`done: ${I} env steps, ${stats.updates} updates (${utd.line}) in ${summary.wallSeconds.toFixed(0)} s | policy lag p50 ${lag[0]} p99 ${lag[1]} | actor restarts ${summary.restarts.join(',')} | kernel jobs lent: actors ${guestJobs.byActors}, learner ${guestJobs.byLearner}; checkpoint ${file}`);
    const learnerState: LearnerState = {
      runtime: 'threads', step: I, updates: stats.updates, episodes: header.episodes(), samples: stats.samples,
      lastReturn: lastReturn(), ledger: { carry: 0, fed: 0, earned: 0 }, sampleRng: { seed: 0, counter: 0 }, resumes,
    };
    return { dir, state: learnerState, config: cfg, derived, summary };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    let where = lastCheckpoint ? `the last checkpoint is ${lastCheckpoint} (continue with resume=${lastCheckpoint})` : 'no checkpoint was written';
    // Actors that never took a step of this start (e.g. they cannot be built) leave nothing to keep.
    if (err instanceof ActorFailure && (header.inserts() > (state?.step ?? 0) || header.updates() > (state?.updates ?? 0))) {
      // The learner is fine: stop the actors and keep what it has learned.
      try {
        await supervisor.stopActors(10_000);
        const file = await checkpoint(`step-${header.inserts()}.ckpt`);
        where = `checkpoint ${file} (continue with resume=${file})`;
      } catch { /* keep the previous checkpoint */ }
    }
    discardRunFolder(); // a run that failed before any result (e.g. a worker that cannot be built) leaves nothing behind
    if (err instanceof RuntimeError) throw new (err.constructor as typeof RuntimeError)(`${message}; the run stopped; ${where}`);
    throw err;
  } finally {
    await supervisor.shutdown();
    await evaluator?.close();
    await server?.close();
  }
}
