// VectorEnv: N TaskEnvs of one task in one thread behind flat, preallocated arrays, so an actor
// hands the planner one [N, obsDim] batch and gets one [N, actionDim] batch back.
//
//   actions    [N, A]  in          obs        [N, O]  out (after auto-reset: the new episode's first obs)
//   reward     [N]     out         finalObs   [N, O]  out, rows where done: the last obs of the episode
//   terminated [N]     out (0/1)   truncated  [N]     out (0/1)
//   episodeReturn/Length [N]: running;  finishedReturn/Length [N]: the episode that ended this step
//   diverged   [N]     out (0/1): env i's simulation diverged in this step (TaskEnv.diverged); its
//                      episode ended (truncated, reward 0) and its finalObs row is NaN: the step's
//                      outcome is no state of the episode, so the episode ends at the step's
//                      starting observation (the caller's copy of obs from before the step)
//
// Auto-reset: when env i's episode ends in step(), its final observation goes to finalObs row i
// (the replay buffer needs it as the next state of the last transition), its return and length
// to finished*, and the env starts its next episode at once, writing that first observation to
// obs row i. Env i is seeded with seed + i at the first reset and its RNG stream continues across
// episodes, so a run is reproducible from the base seed.
import { EnvError } from '../errors.js';
import { loadMujocoModule, Physics } from './physics.js';
import { makeTask } from './registry.js';
import { TaskEnv, type EnvOptions } from './env.js';
import type { TaskSpec } from './task.js';

export interface VectorEnvOptions extends EnvOptions {
  /** Base seed: env i uses seed + i (default 0). */
  seed?: number;
  /** Optional caller-owned output arrays (e.g. SharedArrayBuffer views); sizes are checked. */
  buffers?: Partial<VectorEnvBuffers>;
}

export interface VectorEnvBuffers {
  obs: Float32Array; // [N, O]
  finalObs: Float32Array; // [N, O]
  reward: Float32Array; // [N]
  terminated: Uint8Array; // [N]
  truncated: Uint8Array; // [N]
}

export class VectorEnv {
  readonly numEnvs: number;
  readonly obsDim: number;
  readonly actionDim: number;
  readonly maxEpisodeSteps: number;
  readonly obs: Float32Array;
  readonly finalObs: Float32Array;
  readonly reward: Float32Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  readonly diverged: Uint8Array;
  /** What env i's last divergence was (TaskEnv.divergence), for the caller's log. */
  readonly divergence: string[];
  /** Running return / length (agent steps) of each env's current episode. */
  readonly episodeReturn: Float64Array;
  readonly episodeLength: Int32Array;
  /** Return / length of the episode that ended in the last step (rows where done; else NaN / 0). */
  readonly finishedReturn: Float64Array;
  readonly finishedLength: Int32Array;
  private readonly baseSeed: number;

  /** Builds N environments of a task (by name or spec). */
  static async create(task: string | TaskSpec, numEnvs: number, options: VectorEnvOptions = {}): Promise<VectorEnv> {
    const spec = typeof task === 'string' ? makeTask(task) : task;
    if (!Number.isInteger(numEnvs) || numEnvs < 1) throw new EnvError(`numEnvs must be a positive integer (got ${numEnvs})`);
    const mj = await loadMujocoModule();
    const envs: TaskEnv[] = [];
    try {
      // Each env owns its model: some tasks edit model fields per episode (target positions).
      for (let i = 0; i < numEnvs; i++) envs.push(TaskEnv.withNewPhysics(spec, Physics.fromSource(mj, spec.model()), options));
    } catch (err) {
      const built = envs.length;
      for (const e of envs) e.dispose();
      // Runs check the count first (capacity.ts); this names the cause if another caller runs out.
      if (built > 0 && /Could not allocate memory/.test(String(err))) {
        throw new EnvError(`${numEnvs} ${spec.name} environments do not fit in this thread's MuJoCo WebAssembly module (at most 2 GiB; ${built} were built when it ran out): build fewer per thread`);
      }
      throw err;
    }
    return new VectorEnv(envs, options);
  }

  /** Takes ownership of `envs` (all of the same task). */
  constructor(
    readonly envs: readonly TaskEnv[],
    options: VectorEnvOptions = {},
  ) {
    if (envs.length === 0) throw new EnvError('VectorEnv needs at least one environment');
    const first = envs[0];
    for (const e of envs) {
      if (e.obsDim !== first.obsDim || e.actionDim !== first.actionDim) {
        throw new EnvError(`VectorEnv environments must share obs/action sizes (task '${e.spec.name}' differs from '${first.spec.name}')`);
      }
    }
    const n = envs.length;
    this.numEnvs = n;
    this.obsDim = first.obsDim;
    this.actionDim = first.actionDim;
    this.maxEpisodeSteps = first.maxEpisodeSteps;
    this.baseSeed = options.seed ?? 0;
    const b = options.buffers ?? {};
    this.obs = sized(b.obs, n * this.obsDim, 'obs', () => new Float32Array(n * this.obsDim));
    this.finalObs = sized(b.finalObs, n * this.obsDim, 'finalObs', () => new Float32Array(n * this.obsDim));
    this.reward = sized(b.reward, n, 'reward', () => new Float32Array(n));
    this.terminated = sized(b.terminated, n, 'terminated', () => new Uint8Array(n));
    this.truncated = sized(b.truncated, n, 'truncated', () => new Uint8Array(n));
    this.diverged = new Uint8Array(n);
    this.divergence = Array.from({ length: n }, () => '');
    this.episodeReturn = new Float64Array(n);
    this.episodeLength = new Int32Array(n);
    this.finishedReturn = new Float64Array(n).fill(NaN);
    this.finishedLength = new Int32Array(n);
  }

  /** Resets every env (env i with seed + i; a new base seed may be given) and returns obs. */
  reset(seed: number = this.baseSeed): Float32Array {
    for (let i = 0; i < this.numEnvs; i++) {
      this.envs[i].reset(this.obs, i * this.obsDim, (seed + i) >>> 0);
      this.episodeReturn[i] = 0;
      this.episodeLength[i] = 0;
    }
    this.reward.fill(0);
    this.terminated.fill(0);
    this.truncated.fill(0);
    this.diverged.fill(0);
    this.finishedReturn.fill(NaN);
    this.finishedLength.fill(0);
    return this.obs;
  }

  /** Steps every env with its row of `actions` [N, A]; fills obs, reward, terminated, truncated. */
  step(actions: ArrayLike<number>): void {
    const n = this.numEnvs;
    const A = this.actionDim;
    const O = this.obsDim;
    if (actions.length !== n * A) {
      throw new EnvError(`VectorEnv.step expects ${n} envs x ${A} actions = ${n * A} values (batch-major [N, A]); got ${actions.length}`);
    }
    // Validate the whole batch first so a bad row leaves every env unstepped.
    for (let k = 0; k < n * A; k++) {
      if (!Number.isFinite(actions[k])) {
        throw new EnvError(`VectorEnv.step: actions[${k}] (env ${Math.floor(k / A)}, action ${k % A}) is ${actions[k]}; actions must be finite numbers in [-1, 1]`);
      }
    }
    for (let i = 0; i < n; i++) {
      const env = this.envs[i];
      this.reward[i] = env.stepSlice(actions, i * A, this.obs, i * O);
      this.episodeReturn[i] = env.episodeReturn;
      this.episodeLength[i] = env.episodeLength;
      const done = env.terminated || env.truncated;
      this.terminated[i] = env.terminated ? 1 : 0;
      this.truncated[i] = env.truncated ? 1 : 0;
      this.diverged[i] = env.diverged ? 1 : 0;
      if (env.diverged) this.divergence[i] = env.divergence;
      if (done) {
        for (let j = i * O; j < (i + 1) * O; j++) this.finalObs[j] = env.diverged ? NaN : this.obs[j];
        this.finishedReturn[i] = env.episodeReturn;
        this.finishedLength[i] = env.episodeLength;
        env.reset(this.obs, i * O);
        this.episodeReturn[i] = 0;
        this.episodeLength[i] = 0;
      } else {
        this.finishedReturn[i] = NaN;
        this.finishedLength[i] = 0;
      }
    }
  }

  /** Frees every environment's MuJoCo objects. */
  dispose(): void {
    for (const e of this.envs) e.dispose();
  }
}

function sized<T extends { length: number }>(given: T | undefined, length: number, name: string, make: () => T): T {
  if (given === undefined) return make();
  if (given.length !== length) throw new EnvError(`VectorEnv buffer '${name}' needs length ${length}; got ${given.length}`);
  return given;
}
