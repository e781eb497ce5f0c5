// What one environment's step of a vector step writes to the replay: the one place that knows how
// transitions and episode ends are laid out in a ring, shared by the synchronous loop
// (src/trainer/online-trainer.ts) and the actors (actors/actor.ts).
//
//   a normal step:      slot(o_t, a_t, r_{t+1}, expert_t, flags: TERMINATED if the episode did)
//   the episode ended:  + slot(final observation, flags: LAST)
//   the step diverged:  slot(o_t, flags: LAST) only: the simulation has no o_{t+1} (VectorEnv.diverged),
//                       so the episode ends at o_t and a_t is never trained on
import type { VectorEnv } from '../envs/vector-env.js';
import { FLAG_LAST, FLAG_TERMINATED, type ReplayBuffer } from './replay-buffer.js';

type F32 = Float32Array;

/** The vector step's inputs: observations before the step [N, O], actions [N, A], expert [N, A]. */
export interface VectorStepInputs {
  prevObs: F32;
  action: F32;
  expertMean: F32;
  expertStd: F32;
  /** Parameter version the actions were chosen with. */
  version: number;
}

/**
 * Stores env i's part of the last env.step() in ring r under episodeId. Returns 'continues',
 * 'ended' (the caller begins the next episode) or 'diverged' (ended too; count it).
 */
export function storeEnvStep(
  replay: ReplayBuffer, r: number, episodeId: number, env: VectorEnv, i: number, x: VectorStepInputs,
): 'continues' | 'ended' | 'diverged' {
  const O = env.obsDim;
  const A = env.actionDim;
  if (env.diverged[i]) {
    replay.append(r, episodeId, x.prevObs, i * O, null, 0, 0, FLAG_LAST, null, null, 0, x.version);
    return 'diverged';
  }
  const flags = env.terminated[i] ? FLAG_TERMINATED : 0;
  replay.append(r, episodeId, x.prevObs, i * O, x.action, i * A, env.reward[i], flags, x.expertMean, x.expertStd, i * A, x.version);
  if (!env.terminated[i] && !env.truncated[i]) return 'continues';
  replay.append(r, episodeId, env.finalObs, i * O, null, 0, 0, FLAG_LAST, null, null, 0, x.version);
  return 'ended';
}
