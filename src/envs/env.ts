// TaskEnv: one task on one Physics with the TD-MPC2 / BMPC wrappers applied, in one class so the
// step path is a single allocation-free loop:
//   * actions in [-1, 1] are scaled to the actuators' ctrlrange (dm_control action_scale wrapper);
//   * action repeat (default 2) with reward accumulation 'sum' (TD-MPC2) or 'discounted' (bmpc-jax's
//     ActionRepeatWrapper: reward += r * discount; discount *= d, where d is dm_control's
//     time_step.discount: 1 on every step a DMControl task takes, so it sums the same);
//   * a time limit in agent steps (default: dm_control's control steps / repeat = 500), reported as
//     truncated; episodic tasks report terminated when task.terminated(physics) becomes true;
//   * float32 observations, the dm_control observation dict flattened in key order;
//   * per-env seeding: reset(seed) restarts the RNG stream, so the same seed gives the same episode.
import { EnvError } from '../errors.js';
import { RngStream } from '../engine/rng.js';
import { loadMujocoModule, Physics } from './physics.js';
import { makeTask } from './registry.js';
import { observationSize, taskTiming, type TaskLogic, type TaskSpec } from './task.js';

export type RewardMode = 'sum' | 'discounted';

export interface EnvOptions {
  /** Control steps per agent step (default 2, as in TD-MPC2 and BMPC). */
  actionRepeat?: number;
  /** How rewards of the repeated control steps add up (default 'sum'). */
  rewardMode?: RewardMode;
  /**
   * Per-control-step discount d for rewardMode 'discounted'. Default 1: bmpc-jax multiplies by
   * dm_control's time_step.discount, which is 1 except at a terminal step (after which the repeat
   * stops anyway).
   */
  rewardDiscount?: number;
  /** Agent steps per episode (default: the task's control steps / actionRepeat, rounded up). */
  maxEpisodeSteps?: number;
  /** RNG seed of the first episode (default 0). */
  seed?: number;
}

export class TaskEnv {
  readonly obsDim: number;
  readonly actionDim: number;
  readonly actionRepeat: number;
  readonly rewardMode: RewardMode;
  readonly rewardDiscount: number;
  /** Physics steps per control step. */
  readonly nSubSteps: number;
  /** dm_control's control steps per episode. */
  readonly controlSteps: number;
  readonly maxEpisodeSteps: number;
  /** Set by step(): the episode ended in a terminal state / hit the time limit. */
  terminated = false;
  truncated = false;
  /**
   * Set by step(): the simulation diverged during this step (MuJoCo reset it, or the observation
   * is not finite). The episode then ends (truncated) with reward 0: the step's outcome is not a
   * state of the episode, so callers end the stored episode at the step's starting observation.
   * `divergence` says what was seen.
   */
  diverged = false;
  divergence = '';
  /** Running return and length (agent steps) of the current episode. */
  episodeReturn = 0;
  episodeLength = 0;
  private readonly logic: TaskLogic;
  private readonly hasTermination: boolean;
  private readonly ctrlScale: Float64Array; // [A] (high - low) / 2, or 1 for unlimited actuators
  private readonly ctrlOffset: Float64Array; // [A] (high + low) / 2, or 0
  private rng: RngStream;
  private needsReset = true;

  /** Builds the environment for a task name or spec (loads MuJoCo on first use in this thread). */
  static async create(task: string | TaskSpec, options: EnvOptions = {}): Promise<TaskEnv> {
    const spec = typeof task === 'string' ? makeTask(task) : task;
    const mj = await loadMujocoModule();
    return TaskEnv.withNewPhysics(spec, Physics.fromSource(mj, spec.model()), options);
  }

  /** new TaskEnv(spec, physics, options), disposing `physics` if the task rejects it. */
  static withNewPhysics(spec: TaskSpec, physics: Physics, options: EnvOptions = {}): TaskEnv {
    try {
      return new TaskEnv(spec, physics, options);
    } catch (err) {
      physics.dispose();
      throw err;
    }
  }

  /** Takes ownership of `physics` (disposed with the environment). */
  constructor(
    readonly spec: TaskSpec,
    readonly physics: Physics,
    options: EnvOptions = {},
  ) {
    this.actionRepeat = options.actionRepeat ?? 2;
    this.rewardMode = options.rewardMode ?? 'sum';
    this.rewardDiscount = options.rewardDiscount ?? 1;
    if (!Number.isInteger(this.actionRepeat) || this.actionRepeat < 1) {
      throw new EnvError(`actionRepeat must be a positive integer (got ${options.actionRepeat})`);
    }
    if (this.rewardMode !== 'sum' && this.rewardMode !== 'discounted') {
      throw new EnvError(`rewardMode must be 'sum' or 'discounted' (got '${String(options.rewardMode)}')`);
    }
    if (!(this.rewardDiscount > 0 && this.rewardDiscount <= 1)) {
      throw new EnvError(`rewardDiscount must be in (0, 1] (got ${options.rewardDiscount})`);
    }
    const timing = taskTiming(spec, physics.timestep);
    this.nSubSteps = timing.nSubSteps;
    this.controlSteps = timing.controlSteps;
    this.maxEpisodeSteps = options.maxEpisodeSteps ?? Math.ceil(this.controlSteps / this.actionRepeat);
    if (!Number.isInteger(this.maxEpisodeSteps) || this.maxEpisodeSteps < 1) {
      throw new EnvError(`maxEpisodeSteps must be a positive integer (got ${options.maxEpisodeSteps})`);
    }
    this.obsDim = observationSize(spec);
    this.actionDim = physics.nu;
    this.ctrlScale = new Float64Array(this.actionDim);
    this.ctrlOffset = new Float64Array(this.actionDim);
    for (let i = 0; i < this.actionDim; i++) {
      const lo = physics.ctrlRange[2 * i];
      const hi = physics.ctrlRange[2 * i + 1];
      const limited = physics.ctrlLimited[i] !== 0 && hi > lo;
      this.ctrlScale[i] = limited ? (hi - lo) / 2 : 1;
      this.ctrlOffset[i] = limited ? (hi + lo) / 2 : 0;
    }
    this.logic = spec.create(physics);
    this.hasTermination = spec.episodic && typeof this.logic.terminated === 'function';
    this.rng = new RngStream(options.seed ?? 0);
  }

  /**
   * Starts an episode and writes its first observation at obs[offset..offset+obsDim). With a seed
   * the RNG restarts from it; without, the stream continues (so episode k of a seed is fixed).
   */
  reset(obs: Float32Array, offset = 0, seed?: number): void {
    if (seed !== undefined) this.rng = new RngStream(seed);
    const physics = this.physics;
    physics.reset();
    this.logic.initializeEpisode(physics, this.rng);
    physics.forward();
    this.terminated = false;
    this.truncated = false;
    this.diverged = false;
    this.divergence = '';
    this.episodeReturn = 0;
    this.episodeLength = 0;
    this.needsReset = false;
    this.logic.getObservation(physics, obs, offset);
  }

  /**
   * One agent step: applies `action` (actionDim values in [-1, 1]) for actionRepeat control steps,
   * writes the next observation at obs[obsOffset..], returns the accumulated reward and sets
   * terminated / truncated.
   */
  step(action: ArrayLike<number>, obs: Float32Array, obsOffset = 0): number {
    if (action.length !== this.actionDim) {
      throw new EnvError(`task '${this.spec.name}' takes ${this.actionDim} action values per step; got ${action.length}`);
    }
    return this.stepSlice(action, 0, obs, obsOffset);
  }

  /** step() reading the action at actions[actionOffset..+actionDim) (batched callers check lengths). */
  stepSlice(actions: ArrayLike<number>, actionOffset: number, obs: Float32Array, obsOffset: number): number {
    if (this.needsReset) throw new EnvError('step() called before reset() or after the episode ended: call reset() first');
    const n = this.actionDim;
    const action = actions;
    for (let i = 0; i < n; i++) {
      const a = action[actionOffset + i];
      if (!Number.isFinite(a)) {
        throw new EnvError(`task '${this.spec.name}': action[${i}] is ${a}; actions must be finite numbers in [-1, 1]`);
      }
    }
    const physics = this.physics;
    const timeBefore = physics.time;
    const ctrl = physics.ctrl;
    for (let i = 0; i < n; i++) {
      const a = action[actionOffset + i];
      // Clip to [-1, 1] (what the policy's tanh guarantees) and scale to the ctrlrange.
      ctrl[i] = this.ctrlOffset[i] + this.ctrlScale[i] * (a > 1 ? 1 : a < -1 ? -1 : a);
    }
    const discounted = this.rewardMode === 'discounted';
    let reward = 0;
    let discount = 1;
    let terminated = false;
    let controlSteps = 0;
    for (let k = 0; k < this.actionRepeat; k++) {
      physics.step(this.nSubSteps);
      controlSteps++;
      const r = this.logic.getReward(physics);
      reward += discounted ? r * discount : r;
      discount *= this.rewardDiscount;
      if (this.hasTermination && this.logic.terminated!(physics)) {
        terminated = true;
        break;
      }
    }
    this.logic.getObservation(physics, obs, obsOffset);
    this.episodeLength++;
    if (this.checkDiverged(timeBefore, controlSteps * this.nSubSteps, obs, obsOffset, reward)) {
      // The step's outcome is not a state of this episode: no reward, and the episode ends here
      // (truncated); callers store the step's starting observation as the episode's last.
      this.diverged = true;
      this.terminated = false;
      this.truncated = true;
      this.needsReset = true;
      return 0;
    }
    this.episodeReturn += reward;
    this.terminated = terminated;
    this.truncated = !terminated && this.episodeLength >= this.maxEpisodeSteps;
    if (terminated || this.truncated) this.needsReset = true;
    return reward;
  }

  /**
   * Whether the simulation diverged during the step that started at timeBefore and ran `substeps`
   * physics steps (dm_control's check_invalid_state). MuJoCo resets an unstable simulation inside
   * mj_step (time restarts from 0) and counts an invalid-state warning; a non-finite observation
   * counts too, and so does a non-finite reward (a reward function fed a broken state, or a custom
   * task's bug), which must not reach the replay buffer to be trained on. Cheap on the usual path:
   * the clock must have advanced by exactly substeps·dt. The warnings (a few µs to read) are read
   * on an episode's first step, where a reset at its first substep would leave the clock where it
   * should be, and to describe a divergence found.
   */
  private checkDiverged(timeBefore: number, substeps: number, obs: Float32Array, obsOffset: number, reward: number): boolean {
    const dt = this.physics.timestep;
    const after = this.physics.time;
    const clockOk = Math.abs(after - timeBefore - substeps * dt) <= 0.5 * dt;
    let obsFinite = true;
    for (let i = obsOffset; i < obsOffset + this.obsDim; i++) if (!Number.isFinite(obs[i])) { obsFinite = false; break; }
    const rewardFinite = Number.isFinite(reward);
    const valid = clockOk && obsFinite && rewardFinite;
    if (valid && this.episodeLength !== 1) return false;
    const warnings = this.physics.invalidStateWarnings();
    if (valid && warnings.length === 0) return false;
    const what = [
      ...(warnings.length > 0 ? [`MuJoCo warning ${warnings.map((w) => `mjWARN_${w}`).join(', ')}, simulation reset by MuJoCo`] : []),
      ...(clockOk ? [] : [`clock ${timeBefore.toFixed(4)} s -> ${after.toFixed(4)} s over ${substeps} steps of ${dt} s`]),
      ...(obsFinite ? [] : ['non-finite observation']),
      ...(rewardFinite ? [] : [`non-finite reward ${reward}`]),
    ];
    this.divergence = `task '${this.spec.name}': the simulation diverged at episode step ${this.episodeLength} (${what.join('; ')})`;
    return true;
  }

  /** Frees the MuJoCo objects. */
  dispose(): void {
    this.physics.dispose();
  }
}
