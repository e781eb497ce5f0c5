// Evaluates a saved agent (`tdmpc eval checkpoint=...`, like tdmpc2's evaluate.py): the run's own
// config and model from any checkpoint `tdmpc train` wrote (either runtime, with or without its
// replay), then `episodes` greedy episodes side by side with the training run's evaluation code.
// Everything is checked before an environment or engine is made.
import os from 'node:os';
import { readCheckpoint } from '../checkpoint/checkpoint-file.js';
import type { Config } from '../config/schema.js';
import { completeSavedConfig } from '../config/load.js';
import { deriveConfig, envOptionsFor } from '../config/derive.js';
import { createEngine } from '../engine/index.js';
import { makeTask } from '../envs/registry.js';
import { loadTaskModule } from '../envs/task-module.js';
import { VectorEnv } from '../envs/vector-env.js';
import { checkEnvsFitThreads } from '../envs/capacity.js';
import { Agent, checkSavedAgentFinite } from '../agent/agent.js';
import { CheckpointError, CliError } from '../errors.js';
import { evaluate } from './evaluate.js';

export interface CheckpointEvalOptions {
  /** Episodes, run side by side (default 10). */
  episodes?: number;
  /** Seed of the episodes' initial states (default: the run's seed, i.e. its first evaluation's episodes). */
  seed?: number;
  /** 'plan' (MPPI, the default when the run planned) or 'pi' (the policy prior alone). */
  mode?: 'plan' | 'pi';
  /** Engine threads (default: every core). */
  threads?: number;
  /** The custom-task module, where it has moved since the run (default: the run's task_module). */
  taskModule?: string;
}

export interface CheckpointEvalResult {
  checkpoint: string;
  task: string;
  algo: string;
  /** Env steps the run had taken when the checkpoint was written. */
  step: number;
  mode: 'plan' | 'pi';
  seed: number;
  returns: number[];
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Planner candidates whose score was NaN/Inf (ranked last): > 0 means the saved model has diverged. */
  plan_nonfinite_scores: number;
  /** Policy actions (mode pi) that were NaN/Inf and acted from the fallback: > 0 likewise. */
  policy_nonfinite_actions: number;
}

export async function evaluateCheckpoint(file: string, options: CheckpointEvalOptions = {}): Promise<CheckpointEvalResult> {
  const episodes = options.episodes ?? 10;
  if (!Number.isInteger(episodes) || episodes < 1) throw new CliError(`episodes must be a positive integer (got ${episodes})`);
  const threads = options.threads ?? os.availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new CliError(`threads must be an integer from 1 to 64 (got ${threads})`);
  if (options.mode !== undefined && options.mode !== 'plan' && options.mode !== 'pi') {
    throw new CliError(`mode must be 'plan' or 'pi' (got '${String(options.mode)}')`);
  }
  // Missing / corrupt / foreign files: CheckpointError naming the file. The replay is not read.
  const ckpt = readCheckpoint(file, 'checkpoint', { skipReplay: true });
  const saved = ckpt.meta.config as Config | undefined;
  const trainer = ckpt.meta.trainer as { step?: number } | undefined;
  if (!saved || typeof saved !== 'object' || !ckpt.meta.agent) {
    throw new CheckpointError(`checkpoint '${file}' holds no agent and config; evaluate a checkpoint written by \`tdmpc train\``);
  }
  checkSavedAgentFinite(ckpt.sections, file, 'checkpoint');
  const seed = options.seed ?? saved.seed;
  if (!Number.isInteger(seed) || seed < 0) throw new CliError(`seed must be a non-negative integer (got ${seed})`);
  const mode = options.mode ?? (saved.mpc ? 'plan' : 'pi');
  const run = completeSavedConfig(saved);
  const cfg: Config = {
    ...run, task_module: options.taskModule ?? run.task_module, seed, eval_episodes: episodes, mpc: mode === 'plan', eval_pi: false, eval_value: false,
  };
  await loadTaskModule(cfg.task_module);
  const spec = makeTask(cfg.task);
  // The episodes run side by side, one environment each, in this thread.
  await checkEnvsFitThreads(spec, [{ count: episodes, source: `episodes=${episodes}`, fix: 'lower episodes= and evaluate again with another seed= for more' }]);
  const env = await VectorEnv.create(spec, episodes, envOptionsFor(cfg));
  const engine = createEngine({ threads });
  try {
    const derived = deriveConfig(cfg, {
      name: spec.name, obsDim: env.obsDim, actionDim: env.actionDim, episodeLength: env.maxEpisodeSteps, episodic: spec.episodic,
    });
    const agent = new Agent(engine, cfg, derived, episodes);
    agent.restore(ckpt.meta.agent as Record<string, unknown>, ckpt.sections);
    const r = await evaluate(agent, { env, count: 0 }, cfg, derived);
    const returns = r!.returns;
    const mean = returns.reduce((s, x) => s + x, 0) / returns.length;
    const std = Math.sqrt(returns.reduce((s, x) => s + (x - mean) ** 2, 0) / returns.length);
    return {
      checkpoint: file, task: cfg.task, algo: cfg.algo, step: trainer?.step ?? 0, mode, seed,
      returns, mean, std, min: Math.min(...returns), max: Math.max(...returns),
      plan_nonfinite_scores: r!.metrics.plan_nonfinite_scores,
      policy_nonfinite_actions: r!.metrics.policy_nonfinite_actions,
    };
  } finally {
    engine.dispose();
    env.dispose();
  }
}
