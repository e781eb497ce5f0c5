// Derived configuration: the ONE place where values computed from the config and the task live
// (tdmpc2 fills these in three places; we do it here only). Marked `???` in tdmpc2's config.yaml.
import os from 'node:os';
import { ConfigError } from '../errors.js';
import type { Config } from './schema.js';
import { modelSizePreset } from '../model/config.js';

/** What derivation needs to know about the task. */
export interface TaskInfo {
  name: string;
  obsDim: number;
  actionDim: number;
  /** Agent steps per episode with the configured action repeat. */
  episodeLength: number;
  episodic: boolean;
}

export interface Derived {
  obsDim: number;
  actionDim: number;
  episodeLength: number;
  /** clip((T/denom - 1)/(T/denom), discount_min, discount_max) with T = episode length. */
  discount: number;
  seedSteps: number;
  pretrainUpdates: number;
  /** MPPI iterations: 8 when action_dim >= 20 (tdmpc2), else the config value. */
  iterations: number;
  encDim: number;
  mlpDim: number;
  latentDim: number;
  numEncLayers: number;
  numQ: number;
  /** Replay capacity in transitions, capped at the run's total steps (+ final observations). */
  bufferSize: number;
}

/**
 * Engine threads of the learner (runtime=threads) or of the whole loop (sync): learner_threads, or
 * with 0 the cores the actors leave free (each actor runs one engine thread), at least 1.
 */
export function learnerThreads(cfg: Config, cores = os.availableParallelism()): number {
  if (cfg.learner_threads > 0) return cfg.learner_threads;
  return cfg.runtime === 'threads' ? coresLeftByActors(cfg.actors, cores) : cores;
}

/**
 * Whether an idle thread of the run may compute the other side's kernels (learner_helps_actor,
 * actors_help_learner): only when the actors' and the learner's engine threads fit the cores, so
 * the waiting thread's core is really free. Oversubscribed (e.g. 2 actors + learner on 2 cores),
 * a helper competes with a busy thread for a core, and a kernel whose guest lost its core waits for
 * that guest's task: measured 4.4 instead of 5.5 env steps/s with 2 actors on 2 cores.
 */
export function idleThreadsMayHelp(cfg: Config, cores = os.availableParallelism()): boolean {
  return cfg.runtime === 'threads' && cfg.actors + learnerThreads(cfg, cores) <= cores;
}

/** Cores not kept busy by `actors` actor threads (one engine thread each), at least 1. */
export function coresLeftByActors(actors: number, cores = os.availableParallelism()): number {
  return Math.max(1, cores - actors);
}

export function discountHeuristic(episodeLength: number, denom: number, lo: number, hi: number): number {
  const frac = episodeLength / denom;
  const d = (frac - 1) / frac;
  return Math.min(hi, Math.max(lo, d));
}

export function deriveConfig(cfg: Config, task: TaskInfo): Derived {
  const episodeLength = cfg.episode_length ?? task.episodeLength;
  // model_size (tdmpc2 presets, src/model/config.ts) sets the widths; null keeps the fields.
  const p = cfg.model_size !== null ? modelSizePreset(cfg.model_size) : null;
  const dims = p
    ? { enc_dim: p.encDim, mlp_dim: p.mlpDim, latent_dim: p.latentDim, num_enc_layers: p.numEncLayers, num_q: p.numQ }
    : { enc_dim: cfg.enc_dim, mlp_dim: cfg.mlp_dim, latent_dim: cfg.latent_dim, num_enc_layers: cfg.num_enc_layers, num_q: cfg.num_q };
  if (dims.latent_dim % cfg.simnorm_dim !== 0) {
    throw new ConfigError(`latent_dim (${dims.latent_dim}) must be a multiple of simnorm_dim (${cfg.simnorm_dim})`);
  }
  if (cfg.num_elites > cfg.num_samples + cfg.num_pi_trajs) {
    throw new ConfigError(`num_elites (${cfg.num_elites}) must be <= num_samples + num_pi_trajs (${cfg.num_samples + cfg.num_pi_trajs})`);
  }
  if (cfg.termination && !task.episodic) {
    throw new ConfigError(`termination=true but task '${task.name}' never terminates; set termination=false`);
  }
  const seedSteps = cfg.seed_steps ?? (cfg.seed_steps_coef > 0
    ? Math.round(cfg.seed_steps_coef * cfg.num_envs * episodeLength)
    : Math.max(1000, 5 * episodeLength));
  const pretrainUpdates = cfg.pretrain_updates ?? (cfg.algo === 'tdmpc2' ? seedSteps : 0);
  const bufferSize = Math.min(cfg.buffer_size, cfg.steps + Math.ceil(cfg.steps / episodeLength) + cfg.num_envs * 2);
  if (bufferSize < cfg.num_envs * (cfg.horizon + 2) * 2) {
    throw new ConfigError(`buffer_size (${cfg.buffer_size}) is too small for ${cfg.num_envs} envs and horizon ${cfg.horizon}; use at least ${cfg.num_envs * (cfg.horizon + 2) * 2}`);
  }
  return {
    obsDim: task.obsDim,
    actionDim: task.actionDim,
    episodeLength,
    discount: discountHeuristic(episodeLength, cfg.discount_denom, cfg.discount_min, cfg.discount_max),
    seedSteps,
    pretrainUpdates,
    iterations: task.actionDim >= 20 ? Math.max(cfg.iterations, 8) : cfg.iterations,
    encDim: dims.enc_dim,
    mlpDim: dims.mlp_dim,
    latentDim: dims.latent_dim,
    numEncLayers: dims.num_enc_layers,
    numQ: dims.num_q,
    bufferSize,
  };
}
