// Locomotion domains of the dm_control suite (cheetah, walker, hopper, humanoid, quadruped):
// the built-in models against the original suite XML, then each task's observation/action sizes,
// reward range, episode length, seeding, and rewards of hand-built states.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TaskEnv } from '../src/envs/env.js';
import { Physics, loadMujocoModule, type ModelSource } from '../src/envs/physics.js';
import { makeTask } from '../src/envs/registry.js';
import { observationSize, type TaskLogic, type TaskSpec } from '../src/envs/task.js';
import { cheetahModel } from '../src/envs/models/cheetah.js';
import { walkerModel } from '../src/envs/models/walker.js';
import { hopperModel } from '../src/envs/models/hopper.js';
import { humanoidModel } from '../src/envs/models/humanoid.js';
import { quadrupedModel } from '../src/envs/models/quadruped.js';
import {
  HAVE_DM_CONTROL,
  defineModelComparisons,
  originalSource,
  staticDifferences,
  trajectoryDifference,
} from './helpers/compare-models.js';

defineModelComparisons([
  { name: 'cheetah', original: 'cheetah.xml', builtin: cheetahModel },
  { name: 'walker', original: 'walker.xml', builtin: walkerModel },
  { name: 'hopper', original: 'hopper.xml', builtin: hopperModel },
  { name: 'humanoid', original: 'humanoid.xml', builtin: humanoidModel },
]);

/**
 * dm_control's quadruped.make_model for walk/run, applied to the original XML text: floor resized
 * to `floorSize`; walls, ball, target, terrain geom and rangefinder sensors removed. The sites that
 * nothing reads in walk/run are removed too (the built-in model omits them): the rangefinder rays
 * (their sensors are gone), the eye pupils, the workspace sphere and torso_touch (no touch sensor
 * uses it). Sites carry no mass and never collide, so this leaves the dynamics unchanged.
 */
function quadrupedWalkRunOriginal(floorSize: number): ModelSource {
  const source = originalSource('quadruped.xml');
  const edits: Array<[RegExp, string]> = [
    [/<geom name="wall_[a-z]+"[^>]*\/>/g, ''],
    [/<site name="target"[^>]*\/>/, ''],
    [/<geom name="terrain"[^>]*\/>/, ''],
    [/<body name="ball"[\s\S]*?<\/body>/, ''],
    [/<rangefinder [^>]*\/>/g, ''],
    [/<site name="(rf_\d\d|pupil_[rl]|workspace|torso_touch)"[^>]*\/>/g, ''],
    [/(<geom name="floor" type="plane" size=")[^"]*"/, `$1${floorSize} ${floorSize} .5"`],
  ];
  let xml = source.xml;
  for (const [pattern, replacement] of edits) {
    const edited = xml.replace(pattern, replacement);
    // Every edit must apply: a silent no-op would compare against the wrong model.
    if (edited === xml) throw new Error(`quadruped.xml no longer matches ${pattern}`);
    xml = edited;
  }
  return { ...source, xml };
}

describe.skipIf(!HAVE_DM_CONTROL)('quadruped model matches dm_control (walk/run configuration)', () => {
  test.each([10, 100])('floor %d: same structure and 200-step trajectory as quadruped.xml after make_model', async (floorSize) => {
    const orig = await Physics.load(quadrupedWalkRunOriginal(floorSize));
    const built = await Physics.load(quadrupedModel(floorSize));
    try {
      expect(staticDifferences(orig, built)).toEqual([]);
      const d = trajectoryDifference(orig, built, { name: 'quadruped', original: 'quadruped.xml', builtin: () => quadrupedModel(floorSize) });
      expect(d.moved).toBeGreaterThan(1e-3);
      expect(Math.max(d.qpos, d.qvel, d.sensordata)).toBeLessThanOrEqual(1e-6);
    } finally {
      orig.dispose();
      built.dispose();
    }
  });
});

/** dm_control's observation and action sizes per task. */
const TASKS: Array<{ name: string; obs: number; act: number }> = [
  { name: 'cheetah-run', obs: 17, act: 6 },
  { name: 'walker-stand', obs: 24, act: 6 },
  { name: 'walker-walk', obs: 24, act: 6 },
  { name: 'walker-run', obs: 24, act: 6 },
  { name: 'hopper-stand', obs: 15, act: 4 },
  { name: 'hopper-hop', obs: 15, act: 4 },
  { name: 'humanoid-stand', obs: 67, act: 21 },
  { name: 'humanoid-walk', obs: 67, act: 21 },
  { name: 'humanoid-run', obs: 67, act: 21 },
  { name: 'quadruped-walk', obs: 78, act: 12 },
  { name: 'quadruped-run', obs: 78, act: 12 },
];

/** Domains whose physics steps are costly get shorter rollouts (the checks do not need more). */
function rolloutSteps(name: string): number {
  return name.startsWith('humanoid') || name.startsWith('quadruped') ? 150 : 400;
}

/** A fixed, seed-independent action sequence in [-1, 1]: smooth sines with per-actuator phases. */
function fillAction(action: Float32Array, step: number): void {
  for (let i = 0; i < action.length; i++) action[i] = Math.sin(0.13 * step + 1.7 * i) * (i % 3 === 0 ? 1 : 0.6);
}

beforeAll(async () => {
  await loadMujocoModule();
});

describe.each(TASKS)('$name', ({ name, obs, act }) => {
  const spec: TaskSpec = makeTask(name);
  let env: TaskEnv;
  beforeAll(async () => {
    // actionRepeat 1: one agent step is one dm_control control step.
    env = await TaskEnv.create(spec, { actionRepeat: 1, seed: 3 });
  });
  afterAll(() => env.dispose());

  test('observation and action sizes match dm_control', () => {
    expect(observationSize(spec)).toBe(obs);
    expect(env.obsDim).toBe(obs);
    expect(env.actionDim).toBe(act);
  });

  test('1000 control steps per episode (500 agent steps at action repeat 2)', () => {
    expect(env.controlSteps).toBe(1000);
    expect(env.maxEpisodeSteps).toBe(1000);
    expect(Math.round(env.nSubSteps * env.physics.timestep * 1000 * 1e6) / 1e6).toBe(spec.timeLimit);
  });

  test('rewards stay in [0, 1] and observations stay finite', () => {
    const o = new Float32Array(obs);
    const a = new Float32Array(act);
    env.reset(o, 0, 11);
    expect(o.every(Number.isFinite)).toBe(true);
    for (let t = 0; t < rolloutSteps(name); t++) {
      fillAction(a, t);
      const r = env.step(a, o);
      expect(r).toBeGreaterThanOrEqual(0);
      expect(r).toBeLessThanOrEqual(1);
      expect(o.every(Number.isFinite)).toBe(true);
    }
  });

  test('same seed gives the same episode, another seed another start', () => {
    const steps = 40;
    const run = (seed: number): { obs: Float32Array; rewards: number[] } => {
      const o = new Float32Array(obs);
      const a = new Float32Array(act);
      const trace = new Float32Array(obs * (steps + 1));
      const rewards: number[] = [];
      env.reset(o, 0, seed);
      trace.set(o, 0);
      for (let t = 0; t < steps; t++) {
        fillAction(a, t);
        rewards.push(env.step(a, o));
        trace.set(o, obs * (t + 1));
      }
      return { obs: trace, rewards };
    };
    const first = run(5);
    const again = run(5);
    const other = run(6);
    expect(again.obs).toEqual(first.obs);
    expect(again.rewards).toEqual(first.rewards);
    expect(other.obs.subarray(0, obs)).not.toEqual(first.obs.subarray(0, obs));
  });
});

describe('episode length', () => {
  test.each(['cheetah-run', 'walker-walk', 'hopper-hop', 'humanoid-run', 'quadruped-run'])(
    '%s truncates after exactly 500 agent steps at action repeat 2',
    async (name) => {
      const env = await TaskEnv.create(name, { seed: 1 });
      try {
        const o = new Float32Array(env.obsDim);
        const a = new Float32Array(env.actionDim);
        env.reset(o);
        let steps = 0;
        while (!env.truncated && !env.terminated) {
          fillAction(a, steps);
          env.step(a, o);
          steps++;
        }
        expect(steps).toBe(500);
        expect(env.truncated).toBe(true);
        expect(env.terminated).toBe(false);
        expect(env.physics.time).toBeCloseTo(makeTask(name).timeLimit, 9);
      } finally {
        env.dispose();
      }
    },
  );
});

/** A task bound to a fresh Physics, for reading rewards and observations of hand-built states. */
async function bind(name: string): Promise<{ physics: Physics; logic: TaskLogic; obs: Float32Array; dispose: () => void }> {
  const spec = makeTask(name);
  const physics = await Physics.load(spec.model());
  const logic = spec.create(physics);
  return { physics, logic, obs: new Float32Array(observationSize(spec)), dispose: () => physics.dispose() };
}

/** Puts the model at qpos0 with zero velocity and control, after `edit` writes into qpos/qvel. */
function setState(physics: Physics, edit: (qpos: Float64Array, qvel: Float64Array) => void = () => {}): void {
  physics.reset();
  edit(physics.qpos, physics.qvel);
  physics.forward();
}

describe('rewards of hand-built states', () => {
  test('cheetah: zero at rest, linear in forward speed up to 10 m/s', async () => {
    const { physics, logic, dispose } = await bind('cheetah-run');
    try {
      const rootx = physics.jointDofAdr('rootx');
      setState(physics);
      expect(logic.getReward(physics)).toBe(0);
      // A rigid translation at v moves the centre of mass at v.
      setState(physics, (_q, v) => { v[rootx] = 5; });
      expect(logic.getReward(physics)).toBeCloseTo(0.5, 12);
      setState(physics, (_q, v) => { v[rootx] = 12; });
      expect(logic.getReward(physics)).toBe(1);
      setState(physics, (_q, v) => { v[rootx] = -3; });
      expect(logic.getReward(physics)).toBe(0);
    } finally {
      dispose();
    }
  });

  test('walker: upright at rest stands fully; walk and run need speed', async () => {
    const stand = await bind('walker-stand');
    const walk = await bind('walker-walk');
    const run = await bind('walker-run');
    try {
      const rootx = stand.physics.jointDofAdr('rootx');
      const rootz = stand.physics.jointQposAdr('rootz');
      const rooty = stand.physics.jointQposAdr('rooty');
      for (const b of [stand, walk, run]) setState(b.physics);
      // qpos0: torso at 1.3 m (>= 1.2), vertical (zz = 1).
      expect(stand.logic.getReward(stand.physics)).toBe(1);
      expect(walk.logic.getReward(walk.physics)).toBeCloseTo(1 / 6, 12);
      for (const b of [walk, run]) setState(b.physics, (_q, v) => { v[rootx] = 1; });
      expect(walk.logic.getReward(walk.physics)).toBeCloseTo(1, 12);
      expect(run.logic.getReward(run.physics)).toBeCloseTo((5 / 8 + 1) / 6, 12);
      // Lying on its back at ground level: torso height 0.07 → standing ≈ gaussian tail,
      // upright = (1 + cos 90°) / 2 = 0.5.
      setState(stand.physics, (q) => { q[rootz] = -1.23; q[rooty] = Math.PI / 2; });
      const standing = Math.exp(-0.5 * ((1.2 - 0.07) / 0.6) ** 2 * -2 * Math.log(0.1));
      expect(stand.logic.getReward(stand.physics)).toBeCloseTo((3 * standing + 0.5) / 4, 9);
      // Observation: the height entry (index 14) is the torso z.
      setState(stand.physics);
      stand.logic.getObservation(stand.physics, stand.obs, 0);
      expect(stand.obs[14]).toBeCloseTo(1.3, 6);
      expect(Array.from(stand.obs.subarray(0, 14))).toEqual([1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]);
    } finally {
      for (const b of [stand, walk, run]) b.dispose();
    }
  });

  test('hopper: upright at rest stands fully, hop needs forward speed, falling over gives zero', async () => {
    const stand = await bind('hopper-stand');
    const hop = await bind('hopper-hop');
    try {
      const rootx = stand.physics.jointDofAdr('rootx');
      const rooty = stand.physics.jointQposAdr('rooty');
      for (const b of [stand, hop]) setState(b.physics);
      expect(stand.logic.getReward(stand.physics)).toBe(1);
      expect(hop.logic.getReward(hop.physics)).toBe(0);
      // Full control on every actuator: small_control = 0, so stand = 4/5.
      stand.physics.ctrl.fill(1);
      expect(stand.logic.getReward(stand.physics)).toBeCloseTo(0.8, 12);
      setState(hop.physics, (_q, v) => { v[rootx] = 1; });
      expect(hop.logic.getReward(hop.physics)).toBeCloseTo(0.5, 12);
      setState(hop.physics, (_q, v) => { v[rootx] = 2.5; });
      expect(hop.logic.getReward(hop.physics)).toBeCloseTo(1, 12);
      // Upside down the torso is below the foot: not standing.
      setState(stand.physics, (q) => { q[rooty] = Math.PI; });
      expect(stand.logic.getReward(stand.physics)).toBe(0);
      // No contact in the air: touch observations are log1p(0) = 0.
      stand.logic.getObservation(stand.physics, stand.obs, 0);
      expect(stand.obs[13]).toBe(0);
      expect(stand.obs[14]).toBe(0);
      // Foot pressed 5 mm into the floor (its capsule bottom is 6 cm above it at qpos0): the
      // capsule-plane contacts sit at both ends of the foot, inside the toe and heel sites.
      const rootz = stand.physics.jointQposAdr('rootz');
      setState(stand.physics, (q) => { q[rootz] = -0.065; });
      stand.logic.getObservation(stand.physics, stand.obs, 0);
      expect(stand.obs[13]).toBeGreaterThan(0);
      expect(stand.obs[14]).toBeGreaterThan(0);
    } finally {
      stand.dispose();
      hop.dispose();
    }
  });

  test('humanoid: the upright qpos0 pose stands fully; walk and run need horizontal speed', async () => {
    const stand = await bind('humanoid-stand');
    const walk = await bind('humanoid-walk');
    const run = await bind('humanoid-run');
    try {
      const root = stand.physics.jointDofAdr('root');
      for (const b of [stand, walk, run]) setState(b.physics);
      // Head at 1.69 m (>= 1.4), torso vertical, no control, no motion.
      expect(stand.logic.getReward(stand.physics)).toBe(1);
      expect(walk.logic.getReward(walk.physics)).toBeCloseTo(1 / 6, 12);
      // Moving sideways counts for walk/run (|v_xy|) but costs stand (dont_move).
      for (const b of [stand, walk, run]) setState(b.physics, (_q, v) => { v[root + 1] = 1; });
      expect(walk.logic.getReward(walk.physics)).toBeCloseTo(1, 12);
      expect(run.logic.getReward(run.physics)).toBeCloseTo((5 * 0.1 + 1) / 6, 12);
      const dontMove = (1 + Math.exp(-0.5 * (0.5 * Math.sqrt(-2 * Math.log(0.1))) ** 2)) / 2;
      expect(stand.logic.getReward(stand.physics)).toBeCloseTo(dontMove, 12);
    } finally {
      for (const b of [stand, walk, run]) b.dispose();
    }
  });

  test('humanoid: extremities are expressed in the torso frame (invariant to root yaw and position)', async () => {
    const { physics, logic, obs, dispose } = await bind('humanoid-walk');
    try {
      const root = physics.jointQposAdr('root');
      setState(physics);
      logic.getObservation(physics, obs, 0);
      const upright = obs.slice(22, 34);
      const yaw = 0.8;
      setState(physics, (q) => {
        q[root] = 3;
        q[root + 1] = -2;
        q[root + 3] = Math.cos(yaw / 2);
        q[root + 6] = Math.sin(yaw / 2);
      });
      logic.getObservation(physics, obs, 0);
      for (let i = 0; i < 12; i++) expect(obs[22 + i]).toBeCloseTo(upright[i], 5);
      // The hands hang off the torso body through fixed offsets (upper arm at (0, ±.17, .06),
      // lower arm +(.18, ±.18, -.18), hand +(.18, ∓.18, .18)) and qpos0 bends no arm joint.
      const hands = [...upright.slice(0, 3), ...upright.slice(6, 9)];
      [0.36, 0.17, 0.06, 0.36, -0.17, 0.06].forEach((x, i) => expect(hands[i]).toBeCloseTo(x, 6));
    } finally {
      dispose();
    }
  });

  test('quadruped: upright at rest earns 0.5 (half the move reward), full at the desired speed, 0 upside down', async () => {
    const walk = await bind('quadruped-walk');
    const run = await bind('quadruped-run');
    try {
      const root = walk.physics.jointDofAdr('root');
      const rootQpos = walk.physics.jointQposAdr('root');
      for (const b of [walk, run]) setState(b.physics);
      expect(walk.logic.getReward(walk.physics)).toBeCloseTo(0.5, 12);
      for (const b of [walk, run]) setState(b.physics, (_q, v) => { v[root] = 0.5; });
      expect(walk.logic.getReward(walk.physics)).toBeCloseTo(1, 12);
      expect(run.logic.getReward(run.physics)).toBeCloseTo((0.5 + 5) / 10, 12);
      // Facing -x the same world velocity is backwards in the torso frame (velocimeter).
      setState(walk.physics, (q, v) => {
        q[rootQpos + 3] = 0;
        q[rootQpos + 6] = 1;
        v[root] = 0.5;
      });
      expect(walk.logic.getReward(walk.physics)).toBeCloseTo(0, 12);
      // Upside down (180° about x): zz = -1, upright = 0.
      setState(walk.physics, (q) => {
        q[rootQpos + 3] = 0;
        q[rootQpos + 4] = 1;
      });
      expect(walk.logic.getReward(walk.physics)).toBeCloseTo(0, 12);
      walk.logic.getObservation(walk.physics, walk.obs, 0);
      expect(walk.obs[47]).toBeCloseTo(-1, 12);
    } finally {
      walk.dispose();
      run.dispose();
    }
  });
});

describe('initial states', () => {
  test('quadruped starts just above the floor with a random orientation', async () => {
    const env = await TaskEnv.create('quadruped-walk', { seed: 2 });
    try {
      const o = new Float32Array(env.obsDim);
      const root = env.physics.jointQposAdr('root');
      const uprights: number[] = [];
      for (let episode = 0; episode < 5; episode++) {
        env.reset(o);
        const q = env.physics.qpos;
        expect(env.physics.data.ncon).toBe(0);
        expect(Math.hypot(q[root + 3], q[root + 4], q[root + 5], q[root + 6])).toBeCloseTo(1, 12);
        // One centimetre lower would touch the floor.
        q[root + 2] -= 0.01;
        env.physics.forward();
        expect(env.physics.data.ncon).toBeGreaterThan(0);
        uprights.push(o[47]);
      }
      expect(new Set(uprights).size).toBe(5);
    } finally {
      env.dispose();
    }
  });

  test('humanoid starts contact-free with hinges inside their ranges', async () => {
    const env = await TaskEnv.create('humanoid-stand', { seed: 4 });
    try {
      const o = new Float32Array(env.obsDim);
      const model = env.physics.model;
      for (let episode = 0; episode < 3; episode++) {
        env.reset(o);
        expect(env.physics.data.ncon).toBe(0);
        const range = model.jnt_range as Float64Array;
        const adr = model.jnt_qposadr as Int32Array;
        for (let j = 1; j < model.njnt; j++) {
          const q = env.physics.qpos[adr[j]];
          expect(q).toBeGreaterThanOrEqual(range[2 * j]);
          expect(q).toBeLessThanOrEqual(range[2 * j + 1]);
        }
      }
    } finally {
      env.dispose();
    }
  });

  test('walker and hopper draw the root pitch in [-π, π) and limited joints in range', async () => {
    for (const name of ['walker-walk', 'hopper-hop']) {
      const env = await TaskEnv.create(name, { seed: 9 });
      try {
        const o = new Float32Array(env.obsDim);
        const rooty = env.physics.jointQposAdr('rooty');
        const pitches: number[] = [];
        for (let episode = 0; episode < 20; episode++) {
          env.reset(o);
          pitches.push(env.physics.qpos[rooty]);
        }
        expect(Math.min(...pitches)).toBeGreaterThanOrEqual(-Math.PI);
        expect(Math.max(...pitches)).toBeLessThan(Math.PI);
        // 20 uniform draws on [-π, π) all within ±π/2 has probability 2^-20.
        expect(Math.max(...pitches.map(Math.abs))).toBeGreaterThan(Math.PI / 2);
      } finally {
        env.dispose();
      }
    }
  });

  test('cheetah settles for 200 steps and restarts the clock', async () => {
    const env = await TaskEnv.create('cheetah-run', { seed: 1 });
    try {
      const o = new Float32Array(env.obsDim);
      env.reset(o);
      expect(env.physics.time).toBe(0);
      // After settling the body rests on the ground: velocities are small.
      const qvel = env.physics.qvel;
      let speed = 0;
      for (let i = 0; i < qvel.length; i++) speed = Math.max(speed, Math.abs(qvel[i]));
      expect(speed).toBeLessThan(1);
    } finally {
      env.dispose();
    }
  });
});
