// How many environments of a task one thread can hold. Every thread loads its own MuJoCo module
// (the official @mujoco/mujoco build, 32-bit WebAssembly), whose memory stops at 2 GiB, and each
// environment owns a model and an MjData whose arena (MuJoCo's stack and contact buffers) is
// 13-15 MB for the dm_control models: one thread holds about 150 environments. Past that MuJoCo
// fails with "Could not allocate memory" in the middle of building them, so runs check first.
import { ConfigError } from '../errors.js';
import { loadMujocoModule, Physics } from './physics.js';
import type { TaskSpec } from './task.js';

/** The most memory one MuJoCo WebAssembly module can grow to ("the limit is 2147483648 bytes"). */
export const MUJOCO_MEMORY_LIMIT_BYTES = 2 ** 31;

/**
 * Share of the limit counted as usable: the module's own start-up memory, the compiler's temporary
 * allocations while a model is built, and fragmentation (cartpole: 155 fit, this counts 149).
 */
const USABLE_SHARE = 0.95;

/** Bytes one environment of this physics takes in its thread's module: model, data and the data's arena. */
export function envBytes(physics: Physics): number {
  return physics.model.nbuffer + physics.data.nbuffer + physics.model.narena;
}

/** Environments of this physics' model that one thread's module holds. */
export function envsPerThread(physics: Physics): number {
  return Math.floor((MUJOCO_MEMORY_LIMIT_BYTES * USABLE_SHARE) / envBytes(physics));
}

/** Environments a run builds in one thread: how many, the keys that size them, and what to lower. */
export interface ThreadEnvs {
  count: number;
  /** e.g. 'num_envs=200 + eval_episodes=5' */
  source: string;
  fix: string;
}

/**
 * Refuses, before any work, a run that would build more environments of `spec` in one thread than
 * its MuJoCo module holds. `groups`: one entry per kind of thread (actor, evaluation, ...).
 * `built`: an environment's physics the caller already has (measured instead of compiling the model again).
 */
export async function checkEnvsFitThreads(spec: TaskSpec, groups: ThreadEnvs[], built?: Physics): Promise<void> {
  const largest = groups.reduce((a, b) => (b.count > a.count ? b : a));
  // Measured on the task's own model: a custom task may declare a larger arena (<size memory=...>).
  const physics = built ?? Physics.fromSource(await loadMujocoModule(), spec.model());
  let perEnv: number;
  let fits: number;
  try {
    perEnv = envBytes(physics);
    fits = envsPerThread(physics);
  } finally {
    if (!built) physics.dispose();
  }
  if (largest.count <= fits) return;
  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  throw new ConfigError(`${largest.source} ${spec.name} environments in one thread need about ${mb(largest.count * perEnv)} MiB of MuJoCo memory `
    + `(${mb(perEnv)} MiB each, mostly MuJoCo's arena), but one thread's MuJoCo WebAssembly module grows to at most 2 GiB: about ${fits} of them fit; ${largest.fix}`);
}
