// All wiring of a synchronous training run lives here (Sample Factory's connect_components):
// config -> task -> derived values -> engine -> agent -> replay -> envs -> logger -> trainer.
// Every input is validated before any work starts; a resumed run is restored from its checkpoint.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { completeSavedConfig, loadConfigWithSources, coerceValue } from '../config/load.js';
import { inertSettings } from '../config/inert-keys.js';
import { checkLearningPhase, checkReplayUsable, deriveConfig, envOptionsFor, learnerThreads, type Derived } from '../config/derive.js';
import type { Config } from '../config/schema.js';
import { createEngine } from '../engine/index.js';
import { isBuiltinTask, makeTask } from '../envs/registry.js';
import { loadTaskModule } from '../envs/task-module.js';
import { VectorEnv } from '../envs/vector-env.js';
import { ReplayBuffer, replayBytes } from '../replay/replay-buffer.js';
import { restoreReplay, savedRingCapacity } from '../replay/replay-checkpoint.js';
import { Agent, checkSavedAgentFinite } from '../agent/agent.js';
import { CheckpointError, ConfigError } from '../errors.js';
import { publishLatest, readCheckpoint, writeCheckpoint } from '../checkpoint/checkpoint-file.js';
import { OnlineTrainer, evaluatesAtStep, type TrainerState } from './online-trainer.js';
import { RunLogger } from './logger.js';
import { RateLimiter, rateLimiterOptionsFor } from '../runtime/rate-limiter.js';
import { utdReport } from './utd-report.js';
import { checkRunFolder, createRunFolder, runDir } from './run-folder.js';
import { checkEnvsFitThreads } from '../envs/capacity.js';
import type { LearnerState } from '../runtime/control.js';
import { MetricsServer } from '../metrics/server.js';
import { SyncMetrics } from './sync-metrics.js';
import type { ThreadedOptions, ThreadedSummary } from '../runtime/run-threaded.js';

/**
 * Keys that may differ from the checkpoint's config when resuming (they do not change the math).
 * The engine's thread count and thread lending give bit-identical results (engine-native,
 * engine-guest tests), so a run may continue on a machine with other cores.
 */
const RESUME_OVERRIDABLE = new Set([
  'task_module', 'steps', 'progress', 'checkpoint_freq', 'log_freq', 'resume', 'eval_episodes', 'eval_pi', 'eval_value', 'metrics', 'metrics.host', 'metrics.port',
  'learner_threads', 'learner_helps_actor', 'actors_help_learner',
]);

export interface RunResult {
  dir: string;
  /** Synchronous loop state, or the learner's state of a threaded run (both have step and updates). */
  state: TrainerState | LearnerState;
  config: Config;
  derived: Derived;
  /** Threaded runs: realized UTD, policy lag, restarts (src/runtime/run-threaded.ts). */
  summary?: ThreadedSummary;
}

/**
 * The work_dir a resumed run writes to: the one whose run folder holds the checkpoint
 * (<work_dir>/<task>/<algo>/<exp_name>/seed-<seed>/checkpoints/), so that resuming from another
 * directory continues the same eval.csv and metrics instead of starting a second, partial run
 * folder there; otherwise the saved work_dir (absolute since it is resolved at the run's start).
 */
function resumeWorkDir(saved: Config, checkpointPath: string): string {
  const folder = path.dirname(path.resolve(checkpointPath));
  const expected = path.join(saved.task, saved.algo, saved.exp_name, `seed-${saved.seed}`, 'checkpoints');
  if (folder.endsWith(path.sep + expected)) return folder.slice(0, folder.length - expected.length - 1);
  return path.resolve(saved.work_dir);
}

/**
 * Resolves the config of a run: from the args, or from the checkpoint when resume= is given.
 * `inert`: warnings for given keys that do nothing in this config (a fresh run's; src/config/inert-keys.ts).
 */
export function resolveConfig(args: string[]): { cfg: Config; resumeFrom: ReturnType<typeof readCheckpoint> | null; inert: string[] } {
  const { config: cfg, given } = loadConfigWithSources(args);
  // Absolute from the start, so the saved config names the same folder from any directory.
  const absolute = (c: Config): Config => ({ ...c, task_module: c.task_module === null ? null : path.resolve(c.task_module) });
  if (cfg.resume === null) return { cfg: absolute({ ...cfg, work_dir: path.resolve(cfg.work_dir) }), resumeFrom: null, inert: inertSettings(cfg, given) };
  const ckpt = readCheckpoint(cfg.resume);
  const saved = ckpt.meta.config as Config | undefined;
  if (!saved || typeof saved !== 'object') throw new CheckpointError(`checkpoint '${cfg.resume}' has no config; it was not written by \`tdmpc train\``);
  if (saved.save_buffer === false) {
    throw new CheckpointError(`checkpoint '${cfg.resume}' was written with save_buffer=false: it holds the model and optimizer but no replay `
      + 'buffer, so training cannot continue from it; runs that should be resumable keep save_buffer=true (the default)');
  }
  checkSavedAgentFinite(ckpt.sections, cfg.resume, 'resume');
  // Continuing a run is usually its own command with resume= added: every key it gives (on the
  // command line, or in a config= file, which the command line overrides) that equals the
  // checkpoint's is fine, and only keys that do not change the math may differ. algo= and config=
  // were skipped here, so algo=bmpc resumed a tdmpc2 run silently as tdmpc2.
  const merged = { ...completeSavedConfig(saved) } as Record<string, unknown>;
  merged.work_dir = resumeWorkDir(saved, cfg.resume);
  for (const [k, { value: raw, source }] of given) {
    if (k === 'resume') continue;
    let value = coerceValue(k, raw, source);
    if (k === 'overwrite') {
      if (value === true) {
        throw new ConfigError(`overwrite=true starts a fresh run over the run folder, but resume= continues the run of checkpoint '${cfg.resume}': pass one of them`);
      }
      continue;
    }
    if (k === 'work_dir') value = path.resolve(String(value)); // the folder holding the checkpoint's run folder, absolute
    if (!RESUME_OVERRIDABLE.has(k) && value !== merged[k]) {
      throw new ConfigError(`cannot change '${k}' when resuming (${source === 'command line' ? '' : `${source} sets ${JSON.stringify(value)}; `}checkpoint has ${JSON.stringify(merged[k])}); only ${[...RESUME_OVERRIDABLE].join(', ')} may change; `
        + `leave ${k} out (or give the checkpoint's value) to continue the run, or leave resume= out to start a separate one`);
    }
    merged[k] = value;
  }
  merged.resume = cfg.resume;
  merged.overwrite = false; // how the checkpoint's run began, not what this one does
  return { cfg: absolute(merged as unknown as Config), resumeFrom: ckpt, inert: [] };
}

/**
 * Updates a checkpoint's run still owed at its step, when a stop came inside them (the pretraining
 * burst): the synchronous loop records them; for the threaded runtime they are the rate limiter's
 * final target for the run's steps minus the updates made.
 */
function updatesOwed(cfg: Config, meta: Record<string, unknown>): number {
  const trainer = meta.trainer as { runtime?: unknown; updates?: unknown; updatesOwed?: unknown } | undefined;
  if (trainer?.runtime !== 'threads') return typeof trainer?.updatesOwed === 'number' ? trainer.updatesOwed : 0;
  const derived = meta.derived as Derived | undefined;
  if (!derived || typeof trainer.updates !== 'number') return 0;
  return Math.max(0, new RateLimiter(rateLimiterOptionsFor(cfg, derived)).finalUpdates - trainer.updates);
}

/** A resumed run must have steps left to take, or updates its last step still owes (both runtimes save the env step as trainer.step). */
function checkStepsLeft(cfg: Config, meta: Record<string, unknown>): void {
  const step = (meta.trainer as { step?: unknown } | undefined)?.step;
  if (typeof step !== 'number' || step < cfg.steps || updatesOwed(cfg, meta) > 0) return;
  throw new ConfigError(`checkpoint '${cfg.resume}' is at step ${step} and steps=${cfg.steps} ends the run there: nothing is left to train; `
    + `pass a larger steps= to train longer (e.g. steps=${Math.max(2 * step, step + 1)})`);
}

export interface RunOptions {
  /** Polled after every vector step; true stops the run gracefully (with a checkpoint). */
  shouldStop?: () => boolean;
  /** runtime=sync: called after every vector step and its updates (TrainerHooks.afterStep). */
  afterStep?: (step: number, updates: number) => void;
  /** runtime=threads: called once all threads run (tests reach the supervisor through it). */
  onThreadsStart?: ThreadedOptions['onStart'];
}

export async function runTraining(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const { cfg, resumeFrom, inert } = resolveConfig(args);
  if (resumeFrom) checkStepsLeft(cfg, resumeFrom.meta);
  for (const line of inert) console.error(`tdmpc: ${line}`);
  checkRunFolder(cfg);
  await loadTaskModule(cfg.task_module);
  if (cfg.runtime === 'threads' && !isBuiltinTask(cfg.task) && cfg.task_module === null) {
    makeTask(cfg.task); // an unknown name: EnvError with the closest names
    throw new ConfigError(`task '${cfg.task}' was registered in this thread (registerTask), but runtime=threads makes its environments in worker threads, `
      + 'which have their own task registry: put the registerTask call in a module and pass task_module=<file> (every thread imports it), or use runtime=sync');
  }
  if (cfg.runtime === 'threads') {
    const { runThreaded } = await import('../runtime/run-threaded.js');
    return runThreaded(cfg, resumeFrom, runDir(cfg), { shouldStop: options.shouldStop, onStart: options.onThreadsStart });
  }
  const spec = makeTask(cfg.task); // unknown task: EnvError with the closest names
  const envOptions = envOptionsFor(cfg);
  // The loop builds its training and evaluation environments in this one thread.
  const E = cfg.eval_episodes;
  await checkEnvsFitThreads(spec, [{
    count: cfg.num_envs + E, source: E > 0 ? `num_envs=${cfg.num_envs} + eval_episodes=${E}` : `num_envs=${cfg.num_envs}`,
    fix: 'lower num_envs or eval_episodes (runtime=threads builds each actor\'s num_envs and the evaluation\'s episodes in threads of their own)',
  }]);
  const env = await VectorEnv.create(spec, cfg.num_envs, { ...envOptions, seed: cfg.seed });
  // Released however the run ends: a refusal or failure mid-setup must not keep native threads.
  let evalEnv: VectorEnv | null = null;
  let engine: ReturnType<typeof createEngine> | null = null;
  let discardRunFolder: (() => void) | null = null;
  let server: MetricsServer | null = null;
  try {
    const derived = deriveConfig(cfg, {
      name: spec.name, obsDim: env.obsDim, actionDim: env.actionDim, episodeLength: env.maxEpisodeSteps, episodic: spec.episodic,
    });
    const N = cfg.num_envs;
    // The replay is sized by the run's length; a run resumed with more steps grows its rings (never
    // shrinks them) and keeps what they hold (restoreReplay). Same steps: the saved size exactly.
    const savedCapacity = resumeFrom ? savedRingCapacity(resumeFrom, N) : null;
    const ringCapacity = Math.max(Math.ceil(derived.bufferSize / N), savedCapacity ?? 0);
    checkLearningPhase(cfg, derived);
    checkReplayUsable(cfg, derived, { numRings: N, ringCapacity, obsDim: derived.obsDim, actionDim: derived.actionDim });
    evalEnv = cfg.eval_episodes > 0 ? await VectorEnv.create(spec, cfg.eval_episodes, envOptions) : null;
    engine = createEngine({ threads: learnerThreads(cfg) });
    const agent = new Agent(engine, cfg, derived, Math.max(cfg.num_envs, cfg.eval_episodes));
    const replay = ReplayBuffer.create({ numRings: N, ringCapacity, obsDim: derived.obsDim, actionDim: derived.actionDim });
    const dir = runDir(cfg);
    let state: TrainerState | undefined;
    if (resumeFrom) {
      state = resumeFrom.meta.trainer as TrainerState;
      agent.restore(resumeFrom.meta.agent as Record<string, unknown>, resumeFrom.sections);
      restoreReplay(resumeFrom, replay);
    }
    // The same series as a threaded run's, served between steps (the loop yields once per step and
    // every ~50 ms of updates). The port is bound before the run folder exists: a port in use is refused first.
    const syncMetrics = cfg.metrics ? new SyncMetrics(cfg, replay, engine.threads) : null;
    if (syncMetrics) server = await MetricsServer.start(syncMetrics.metrics, cfg['metrics.host'], cfg['metrics.port']);
    if (cfg.progress) {
      const mb = replayBytes(replay.shape) / 2 ** 20;
      console.log(`tdmpc train ${cfg.task} | algo ${cfg.algo} | runtime sync: engine ${engine.name}/${engine.simd} x${engine.threads} | ${agent.model.store.trainableLength.toLocaleString()} params | replay ${replay.shape.numRings * replay.shape.ringCapacity} slots (${mb.toFixed(1)} MiB) | seed steps ${derived.seedSteps}${server ? ` | metrics ${server.url}` : ''} | ${dir}`);
    }
    discardRunFolder = createRunFolder(cfg, dir, derived);
    const logger = new RunLogger(dir, cfg.seed, cfg.progress, state ? { step: state.step, reevaluatesStep: cfg.eval_episodes > 0 && evaluatesAtStep(cfg, state.step) } : null);
    const trainer = new OnlineTrainer(cfg, derived, env, { env: evalEnv ?? env, count: state ? Math.ceil(state.step / cfg.eval_freq) : 0 }, agent, replay, logger, state, syncMetrics);

    const save = (st: TrainerState, name: string) => {
      const file = path.join(dir, 'checkpoints', name);
      const agentState = agent.checkpoint();
      const sections: Record<string, Float32Array | Int32Array | Uint8Array | Float64Array | Uint32Array> = { ...agentState.sections };
      if (cfg.save_buffer) for (const [k, arr] of Object.entries(replay.data)) sections[`replay.${k}`] = arr;
      writeCheckpoint(file, { meta: { config: cfg, derived, trainer: st, agent: agentState.meta, written: new Date().toISOString() }, sections });
      publishLatest(file);
      return file;
    };
    const t0 = Date.now();
    const final = await trainer.train({
      shouldStop: options.shouldStop,
      afterStep: options.afterStep,
      checkpoint: (st) => { save(st, `step-${st.step}.ckpt`); },
    });
    const complete = final.step >= cfg.steps && !(final.updatesOwed ?? 0);
    const file = save(final, complete ? 'final.ckpt' : `step-${final.step}.ckpt`);
    if (cfg.progress) {
      const utd = utdReport(new RateLimiter(rateLimiterOptionsFor(cfg, derived)), final.step, final.updates);
      console.log(`done: ${final.step} env steps, ${final.updates} updates (${utd.line}) in ${((Date.now() - t0) / 1000).toFixed(0)} s; checkpoint ${file}`);
    }
    return { dir, state: final, config: cfg, derived };
  } catch (err) {
    discardRunFolder?.(); // a run that failed before any result leaves nothing behind
    throw err;
  } finally {
    await server?.close();
    evalEnv?.dispose();
    engine?.dispose();
    env.dispose();
  }
}

export function checkpointExists(file: string): boolean {
  return existsSync(file);
}
