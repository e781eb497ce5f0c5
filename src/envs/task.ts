// The task API: what a control task is (after dm_control.suite.base.Task) and how to define one.
//
// A TaskSpec is static and shareable: a name, a model, timing, and the observation layout. Each
// environment calls spec.create(physics) once to get a TaskLogic bound to its own Physics; the
// logic resolves object ids and preallocates whatever it needs there, so that the per-step calls
// (getObservation, getReward, terminated) allocate nothing.
//
// Per control step the environment does (dm_control rl/control.py, Environment.step):
//   ctrl <- scaled action;  physics.step(nSubSteps);  reward = getReward(physics)
// and per episode (Environment.reset):
//   physics.reset() (mj_resetData);  initializeEpisode(physics, rng);  physics.forward()
// The observation is the dm_control observation dict flattened in its key order, as float32.
import { EnvError } from '../errors.js';
import type { RngStream } from '../engine/rng.js';
import type { ModelSource, Physics } from './physics.js';

/** One entry of the observation dict: its dm_control key and flattened size, in dict order. */
export interface ObservationKey {
  readonly name: string;
  readonly size: number;
}

/** A task bound to one Physics (created by TaskSpec.create). */
export interface TaskLogic {
  /**
   * Sets the initial state of an episode. Runs after mj_resetData; the environment calls
   * physics.forward() afterwards, so writing qpos/qvel (or model fields) is enough. Draw every
   * random number from `rng` so episodes are reproducible per seed.
   */
  initializeEpisode(physics: Physics, rng: RngStream): void;
  /** Writes the flattened observation (obsDim floats, dict key order) at out[offset..]. */
  getObservation(physics: Physics, out: Float32Array, offset: number): void;
  /** Reward of the control step that just ran, in [0, 1] for the built-in tasks. */
  getReward(physics: Physics): number;
  /** For episodic tasks: true when the episode has ended with a terminal state. */
  terminated?(physics: Physics): boolean;
}

/** A control task: model, timing, observation layout and the factory for its logic. */
export interface TaskSpec {
  /** tdmpc2-style name, e.g. 'cartpole-swingup'. */
  readonly name: string;
  /** The model family, e.g. 'cartpole' (tasks of a domain share the model). */
  readonly domain: string;
  /** The MJCF model (a function so XML is only built when an environment is made). */
  readonly model: () => ModelSource;
  /** Seconds per control step; a multiple of the physics timestep. Default: the physics timestep. */
  readonly controlTimestep?: number;
  /** Episode length in seconds (dm_control's time_limit). */
  readonly timeLimit: number;
  /** Observation dict layout in key order. */
  readonly observation: readonly ObservationKey[];
  /** True when the task may terminate (then TaskLogic.terminated is defined). */
  readonly episodic: boolean;
  /** One-line description for listings. */
  readonly description?: string;
  /** Binds the task to a freshly loaded Physics (resolve ids, edit model constants, allocate). */
  readonly create: (physics: Physics) => TaskLogic;
}

/** Total observation size of a task. */
export function observationSize(spec: Pick<TaskSpec, 'observation'>): number {
  let n = 0;
  for (const k of spec.observation) n += k.size;
  return n;
}

/** Physics sub-steps per control step and control steps per episode (dm_control's step limit). */
export function taskTiming(spec: TaskSpec, physicsTimestep: number): { nSubSteps: number; controlSteps: number } {
  const control = spec.controlTimestep ?? physicsTimestep;
  const ratio = control / physicsTimestep;
  const nSubSteps = Math.round(ratio);
  if (nSubSteps < 1 || Math.abs(ratio - nSubSteps) > 1e-6) {
    throw new EnvError(`task '${spec.name}': controlTimestep ${control} is not a multiple of the physics timestep ${physicsTimestep}`);
  }
  // dm_control ends the episode once step_count >= time_limit / control_timestep.
  const controlSteps = Math.ceil(spec.timeLimit / (physicsTimestep * nSubSteps) - 1e-9);
  return { nSubSteps, controlSteps };
}

/** What defineTask accepts: a TaskSpec with convenient shorthands. */
export interface TaskDefinition {
  /** Lowercase words joined by '-', e.g. 'my-arm-reach'. */
  name: string;
  /** Defaults to the first word of the name. */
  domain?: string;
  /** The MJCF model: an XML string, {xml, includes}, or a function returning either. */
  model: string | ModelSource | (() => string | ModelSource);
  controlTimestep?: number;
  /** Episode length in seconds. */
  timeLimit: number;
  /** Observation layout: [{name, size}] or {name: size} (object key order is kept). */
  observation: readonly ObservationKey[] | Readonly<Record<string, number>>;
  /** True when the task can end early: the logic must then define terminated(physics). */
  episodic?: boolean;
  description?: string;
  /** Binds the task to a Physics; return the per-environment logic. */
  create: (physics: Physics) => TaskLogic;
}

const NAME_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** Validates a task definition and returns its TaskSpec (register it with registerTask). */
export function defineTask(def: TaskDefinition): TaskSpec {
  if (typeof def.name !== 'string' || !NAME_PATTERN.test(def.name)) {
    throw new EnvError(`task name '${String(def.name)}' must be lowercase words joined by '-' (e.g. 'arm-reach')`);
  }
  if (!(def.timeLimit > 0) || !Number.isFinite(def.timeLimit)) {
    throw new EnvError(`task '${def.name}': timeLimit must be a positive number of seconds (got ${def.timeLimit})`);
  }
  if (def.controlTimestep !== undefined && !(def.controlTimestep > 0)) {
    throw new EnvError(`task '${def.name}': controlTimestep must be positive seconds (got ${def.controlTimestep})`);
  }
  if (typeof def.create !== 'function') throw new EnvError(`task '${def.name}': create(physics) must be a function returning the task logic`);
  const observation: ObservationKey[] = Array.isArray(def.observation)
    ? def.observation.map((k: ObservationKey) => ({ name: k.name, size: k.size }))
    : Object.entries(def.observation).map(([name, size]) => ({ name, size: size as number }));
  if (observation.length === 0) throw new EnvError(`task '${def.name}': observation must list at least one key`);
  for (const k of observation) {
    if (!Number.isInteger(k.size) || k.size < 1) {
      throw new EnvError(`task '${def.name}': observation '${k.name}' needs a positive integer size (got ${k.size})`);
    }
  }
  const source = def.model;
  const model = (): ModelSource => {
    const m = typeof source === 'function' ? source() : source;
    return typeof m === 'string' ? { xml: m, name: `${def.name}.xml` } : m;
  };
  const create = def.create;
  return Object.freeze({
    name: def.name,
    domain: def.domain ?? def.name.split('-')[0],
    model,
    controlTimestep: def.controlTimestep,
    timeLimit: def.timeLimit,
    observation: Object.freeze(observation),
    episodic: def.episodic ?? false,
    description: def.description,
    create: (physics: Physics): TaskLogic => {
      const logic = create(physics);
      for (const method of ['initializeEpisode', 'getObservation', 'getReward'] as const) {
        if (typeof logic?.[method] !== 'function') throw new EnvError(`task '${def.name}': create() must return an object with ${method}()`);
      }
      if (def.episodic && typeof logic.terminated !== 'function') {
        throw new EnvError(`task '${def.name}' is episodic, so create() must return an object with terminated(physics)`);
      }
      return logic;
    },
  });
}
