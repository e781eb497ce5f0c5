// The simpler dm_control tasks (cartpole, pendulum, acrobot, reacher, finger, point mass, cup) and
// the task machinery: registry, rewards.tolerance, wrappers (action scaling, repeat, reward modes,
// time limit, termination), seeding, custom tasks, and bad input.
import { describe, expect, it } from 'vitest';
import { EnvError } from '../src/errors.js';
import { RngStream } from '../src/engine/rng.js';
import { TaskEnv } from '../src/envs/env.js';
import { Physics } from '../src/envs/physics.js';
import { closestNames, editDistance, makeTask, registerTask, taskNames } from '../src/envs/registry.js';
import { sigmoid, tolerance } from '../src/envs/rewards.js';
import { defineTask, observationSize, type TaskLogic, type TaskSpec } from '../src/envs/task.js';
import { listTasks } from '../src/cli/tasks.js';

// name -> [observation size, action size] as listed by TD-MPC2 / dm_control.
const SIMPLE_TASKS: Record<string, [number, number]> = {
  'cartpole-balance': [5, 1],
  'cartpole-balance-sparse': [5, 1],
  'cartpole-swingup': [5, 1],
  'cartpole-swingup-sparse': [5, 1],
  'pendulum-swingup': [3, 1],
  'acrobot-swingup': [6, 1],
  'acrobot-swingup-sparse': [6, 1],
  'reacher-easy': [6, 2],
  'reacher-hard': [6, 2],
  'finger-spin': [9, 2],
  'finger-turn-easy': [12, 2],
  'finger-turn-hard': [12, 2],
  'pointmass-easy': [4, 2],
  'cup-catch': [8, 2],
};

/** A task's logic on its own Physics, for hand-built states. */
async function bind(name: string): Promise<{ physics: Physics; logic: TaskLogic; spec: TaskSpec }> {
  const spec = makeTask(name);
  const physics = await Physics.load(spec.model());
  return { physics, logic: spec.create(physics), spec };
}

describe('rewards.tolerance', () => {
  it('is 1 inside the bounds and follows each sigmoid outside', () => {
    expect(tolerance(0.5, 0, 1)).toBe(1);
    expect(tolerance(1.5, 0, 1)).toBe(0); // margin 0: a step
    expect(tolerance(2, 0, 1, 1)).toBeCloseTo(0.1, 12); // one margin away: value_at_margin
    expect(tolerance(-1, 0, 1, 1)).toBeCloseTo(0.1, 12);
    expect(tolerance(1.5, 0, 1, 1)).toBeCloseTo(Math.exp(-0.5 * 0.25 * -2 * Math.log(0.1)), 12);
    expect(tolerance(0.5, 0, 0, 1, 'quadratic', 0)).toBeCloseTo(0.75, 12);
    expect(tolerance(1.2, 0, 0, 1, 'quadratic', 0)).toBe(0);
    expect(tolerance(5, 10, Infinity, 10, 'linear', 0)).toBeCloseTo(0.5, 12); // cheetah: v / 10
    expect(tolerance(0.5, 1, Infinity, 0.5, 'linear', 0.5)).toBeCloseTo(0.5, 12); // walker walk
    for (const kind of ['gaussian', 'hyperbolic', 'long_tail', 'reciprocal', 'cosine', 'linear', 'quadratic', 'tanh_squared'] as const) {
      expect(sigmoid(0, 0.3, kind)).toBeCloseTo(1, 12);
      expect(sigmoid(1, 0.3, kind)).toBeCloseTo(0.3, 12);
    }
  });

  it('rejects invalid arguments', () => {
    expect(() => tolerance(0, 1, 0)).toThrow(/lower <= upper/);
    expect(() => tolerance(0, 0, 0, -1)).toThrow(/margin/);
    expect(() => tolerance(2, 0, 1, 1, 'gaussian', 0)).toThrow(/value_at_margin/);
  });
});

describe('registry', () => {
  it('lists all 25 tasks with their sizes and 500-step episodes', async () => {
    const rows = await listTasks();
    expect(taskNames()).toHaveLength(25);
    expect(rows).toHaveLength(25);
    for (const [name, [obs, act]] of Object.entries(SIMPLE_TASKS)) {
      expect(rows.find((r) => r.name === name)).toEqual({ name, obs_dim: obs, action_dim: act, episode_length: 500 });
    }
  });

  it('names the closest tasks for an unknown name', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closestNames('cartpole-swing', taskNames(), 2)).toEqual(['cartpole-swingup', 'cartpole-balance']);
    expect(() => makeTask('cartpole-swingupp')).toThrow(EnvError);
    expect(() => makeTask('cartpole-swingupp')).toThrow(/unknown task 'cartpole-swingupp'; did you mean 'cartpole-swingup'/);
    expect(() => makeTask('reacher-eazy')).toThrow(/'reacher-easy'/);
  });
});

describe('built-in tasks', () => {
  it.each(Object.entries(SIMPLE_TASKS))('%s: sizes, 1000 control steps, rewards in [0, 1], finite float32 obs', async (name, [obsDim, actionDim]) => {
    // actionRepeat 1 exposes every control step's reward.
    const env = await TaskEnv.create(name, { actionRepeat: 1, seed: 5 });
    try {
      expect(env.obsDim).toBe(obsDim);
      expect(observationSize(env.spec)).toBe(obsDim);
      expect(env.actionDim).toBe(actionDim);
      expect(env.controlSteps).toBe(1000);
      expect(env.maxEpisodeSteps).toBe(1000);
      const obs = new Float32Array(obsDim);
      env.reset(obs);
      const rng = new RngStream(9);
      const action = new Float32Array(actionDim);
      let steps = 0;
      let rewardMin = Infinity;
      let rewardMax = -Infinity;
      while (!env.truncated) {
        for (let i = 0; i < actionDim; i++) action[i] = 2 * rng.uniform() - 1;
        const r = env.step(action, obs);
        rewardMin = Math.min(rewardMin, r);
        rewardMax = Math.max(rewardMax, r);
        steps++;
        expect(env.terminated).toBe(false);
      }
      expect(steps).toBe(1000);
      expect(rewardMin).toBeGreaterThanOrEqual(0);
      expect(rewardMax).toBeLessThanOrEqual(1);
      expect(obs.every(Number.isFinite)).toBe(true);
      expect(() => env.step(action, obs)).toThrow(/reset/); // episode over
    } finally {
      env.dispose();
    }
  });

  it('default wrappers: 500 agent steps of 2 control steps, truncated (not terminated) at the limit', async () => {
    const env = await TaskEnv.create('pendulum-swingup', { seed: 1 });
    try {
      expect(env.actionRepeat).toBe(2);
      expect(env.maxEpisodeSteps).toBe(500);
      const obs = new Float32Array(env.obsDim);
      env.reset(obs);
      const action = new Float32Array([0.3]);
      for (let s = 1; s <= 500; s++) {
        env.step(action, obs);
        expect(env.truncated).toBe(s === 500);
        expect(env.terminated).toBe(false);
      }
      expect(env.physics.time).toBeCloseTo(20, 9); // 1000 control steps of 20 ms
      expect(env.episodeLength).toBe(500);
    } finally {
      env.dispose();
    }
  });

  it('the same seed gives the same episode; another seed another one', async () => {
    for (const name of Object.keys(SIMPLE_TASKS)) {
      const envs = await Promise.all([TaskEnv.create(name, { seed: 42 }), TaskEnv.create(name, { seed: 42 }), TaskEnv.create(name, { seed: 43 })]);
      try {
        const obs = envs.map((e) => new Float32Array(e.obsDim));
        envs.forEach((e, i) => e.reset(obs[i]));
        expect(obs[1]).toEqual(obs[0]);
        expect(obs[2]).not.toEqual(obs[0]);
        const rng = new RngStream(3);
        const action = new Float32Array(envs[0].actionDim);
        for (let s = 0; s < 20; s++) {
          for (let i = 0; i < action.length; i++) action[i] = 2 * rng.uniform() - 1;
          expect(envs[1].step(action, obs[1])).toBe(envs[0].step(action, obs[0]));
          expect(obs[1]).toEqual(obs[0]);
        }
        // reset(seed) restarts the stream: the first episode again.
        const first = new Float32Array(envs[0].obsDim);
        const again = new Float32Array(envs[0].obsDim);
        envs[1].reset(first, 0, 42);
        envs[1].reset(again); // episode 2 of seed 42
        envs[0].reset(obs[0], 0, 42);
        expect(obs[0]).toEqual(first);
        expect(again).not.toEqual(first);
      } finally {
        envs.forEach((e) => e.dispose());
      }
    }
  });

  it('initial-state distributions follow dm_control', async () => {
    const { physics, logic } = await bind('cartpole-swingup');
    const balance = await bind('cartpole-balance');
    try {
      const rng = new RngStream(11);
      for (let k = 0; k < 50; k++) {
        physics.reset();
        logic.initializeEpisode(physics, rng);
        expect(Math.abs(physics.qpos[1] - Math.PI)).toBeLessThan(0.06); // π + 0.01·N
        balance.physics.reset();
        balance.logic.initializeEpisode(balance.physics, rng);
        expect(Math.abs(balance.physics.qpos[0])).toBeLessThanOrEqual(0.1);
        expect(Math.abs(balance.physics.qpos[1])).toBeLessThanOrEqual(0.034);
      }
    } finally {
      physics.dispose();
      balance.physics.dispose();
    }
  });
});

describe('rewards at hand-built states', () => {
  it('cartpole: at rest, upright and centred gives 1 (balance, swingup and the sparse variants)', async () => {
    for (const name of ['cartpole-balance', 'cartpole-swingup', 'cartpole-balance-sparse', 'cartpole-swingup-sparse']) {
      const { physics, logic } = await bind(name);
      try {
        physics.forward(); // qpos0: cart at 0, pole up; zero velocity and control
        expect(logic.getReward(physics)).toBe(1);
        const obs = new Float32Array(5);
        logic.getObservation(physics, obs, 0);
        expect(Array.from(obs)).toEqual([0, 1, 0, 0, 0]);
        physics.qpos[1] = Math.PI; // hanging down
        physics.forward();
        expect(logic.getReward(physics)).toBeLessThan(1e-6);
        physics.qpos[1] = 0;
        physics.qpos[0] = 0.5; // off-centre: sparse fails, smooth shrinks
        physics.forward();
        expect(logic.getReward(physics)).toBe(name.endsWith('sparse') ? 0 : (1 + Math.exp(-0.5 * 0.0625 * -2 * Math.log(0.1))) / 2);
      } finally {
        physics.dispose();
      }
    }
  });

  it('pendulum: upright gives 1, 10° off gives 0', async () => {
    const { physics, logic } = await bind('pendulum-swingup');
    try {
      // The model's pole points up (+z) at qpos 0 and hangs down at π.
      physics.qpos[0] = Math.PI;
      physics.forward();
      expect(logic.getReward(physics)).toBe(0);
      physics.qpos[0] = 0;
      physics.forward();
      expect(logic.getReward(physics)).toBe(1);
      physics.qpos[0] = (10 * Math.PI) / 180;
      physics.forward();
      expect(logic.getReward(physics)).toBe(0);
      const obs = new Float32Array(3);
      logic.getObservation(physics, obs, 0);
      expect(obs[0]).toBeCloseTo(Math.cos(Math.PI / 18), 6);
      expect(obs[1]).toBeCloseTo(Math.sin(Math.PI / 18), 6);
    } finally {
      physics.dispose();
    }
  });

  it('acrobot: tip at the target gives 1; hanging down is far from it', async () => {
    for (const [name, down] of [['acrobot-swingup', 0.1], ['acrobot-swingup-sparse', 0]] as const) {
      const { physics, logic } = await bind(name);
      try {
        physics.forward(); // both links straight up: tip at (0, 0, 4) = target
        expect(logic.getReward(physics)).toBe(1);
        physics.qpos[0] = Math.PI; // straight down: tip at z = 0, 4 m away
        physics.forward();
        expect(logic.getReward(physics)).toBeLessThan(down === 0 ? 1e-12 : 1e-3);
      } finally {
        physics.dispose();
      }
    }
  });

  it('reacher: finger on the target gives 1, the target radius sets the tolerance', async () => {
    for (const [name, radius] of [['reacher-easy', 0.05], ['reacher-hard', 0.015]] as const) {
      const { physics, logic } = await bind(name);
      try {
        physics.reset();
        logic.initializeEpisode(physics, new RngStream(2));
        physics.qpos[0] = 0;
        physics.qpos[1] = 0; // finger at (0.24, 0)
        const geomPos = physics.model.geom_pos as Float64Array;
        const target = physics.id('geom', 'target');
        geomPos[3 * target] = 0.24;
        geomPos[3 * target + 1] = 0;
        physics.forward();
        expect(logic.getReward(physics)).toBe(1);
        geomPos[3 * target + 1] = radius + 0.01 - 0.001; // just inside target + finger radius
        physics.forward();
        expect(logic.getReward(physics)).toBe(1);
        geomPos[3 * target + 1] = radius + 0.01 + 0.001;
        physics.forward();
        expect(logic.getReward(physics)).toBe(0);
        const obs = new Float32Array(6);
        logic.getObservation(physics, obs, 0);
        expect(obs[3]).toBeCloseTo(radius + 0.011, 6); // to_target y
      } finally {
        physics.dispose();
      }
    }
  });

  it('finger: spinning at -20 rad/s rewards spin; the tip inside the target rewards turn', async () => {
    const spin = await bind('finger-spin');
    try {
      expect((spin.physics.model.dof_damping as Float64Array)[2]).toBe(0.03);
      spin.physics.qvel[2] = -20;
      spin.physics.forward();
      expect(spin.logic.getReward(spin.physics)).toBe(1);
      spin.physics.qvel[2] = 20;
      spin.physics.forward();
      expect(spin.logic.getReward(spin.physics)).toBe(0);
    } finally {
      spin.physics.dispose();
    }
    for (const name of ['finger-turn-easy', 'finger-turn-hard']) {
      const { physics, logic } = await bind(name);
      try {
        physics.reset();
        logic.initializeEpisode(physics, new RngStream(4));
        // Rotate the spinner so its tip (0.13 from the hinge) points at the target.
        const sitePos = physics.model.site_pos as Float64Array;
        const target = physics.id('site', 'target');
        const angle = Math.atan2(sitePos[3 * target] - 0.2, sitePos[3 * target + 2] - 0.4);
        physics.qpos[2] = -angle; // hinge axis is -y: positive qpos turns x toward -z
        physics.forward();
        const obs = new Float32Array(12);
        logic.getObservation(physics, obs, 0);
        expect(obs[11]).toBeLessThan(0); // dist_to_target: inside
        expect(logic.getReward(physics)).toBe(1);
        physics.qpos[2] += Math.PI;
        physics.forward();
        expect(logic.getReward(physics)).toBe(0);
      } finally {
        physics.dispose();
      }
    }
  });

  it('point mass: at the target with zero control gives 1, full control 0.8', async () => {
    const { physics, logic } = await bind('pointmass-easy');
    try {
      physics.forward();
      expect(logic.getReward(physics)).toBe(1);
      physics.ctrl[0] = 1;
      physics.ctrl[1] = -1;
      expect(logic.getReward(physics)).toBeCloseTo(0.8, 12);
      physics.ctrl.fill(0);
      physics.qpos[0] = 0.2;
      physics.forward();
      expect(logic.getReward(physics)).toBeLessThan(1e-6);
    } finally {
      physics.dispose();
    }
  });

  it('cup catch: ball in the cup gives 1, below it 0; starts without contacts', async () => {
    const { physics, logic } = await bind('cup-catch');
    try {
      physics.qpos.set([0, 0, 0, 0.35]); // ball centre 5 cm above the cup's floor, at the target
      physics.forward();
      expect(logic.getReward(physics)).toBe(1);
      physics.qpos[3] = 0;
      physics.forward();
      expect(logic.getReward(physics)).toBe(0);
      const rng = new RngStream(8);
      for (let k = 0; k < 20; k++) {
        physics.reset();
        logic.initializeEpisode(physics, rng);
        physics.forward();
        expect(physics.data.ncon).toBe(0);
        expect(Math.abs(physics.qpos[2])).toBeLessThanOrEqual(0.2);
      }
    } finally {
      physics.dispose();
    }
  });
});

// A minimal custom task: a slider pushed toward x = 1; reward 1 each control step; ends at x > 0.5.
const SLIDER_XML = `<mujoco><option timestep="0.01"/><worldbody><body name="b"><joint name="x" type="slide" axis="1 0 0"/>
  <geom type="sphere" size="0.1" mass="1"/></body></worldbody>
  <actuator><motor joint="x" gear="1" ctrlrange="-2 4" ctrllimited="true"/></actuator></mujoco>`;

function sliderTask(name: string, episodic: boolean): TaskSpec {
  return defineTask({
    name,
    model: SLIDER_XML,
    controlTimestep: 0.02,
    timeLimit: 1,
    observation: { position: 1, velocity: 1 },
    episodic,
    create: (physics) => {
      const x = physics.jointQposAdr('x');
      return {
        initializeEpisode: (p, rng) => {
          p.qpos[x] = 0.01 * rng.normal();
        },
        getObservation: (p, out, o) => {
          out[o] = p.qpos[x];
          out[o + 1] = p.qvel[0];
        },
        getReward: () => 1,
        terminated: (p) => p.qpos[x] > 0.5,
      };
    },
  });
}

describe('wrappers and custom tasks', () => {
  it('scales [-1, 1] actions to the ctrlrange and clips beyond', async () => {
    const env = await TaskEnv.create(sliderTask('slider-scale', false));
    try {
      const obs = new Float32Array(2);
      env.reset(obs);
      for (const [a, ctrl] of [[1, 4], [-1, -2], [0, 1], [0.5, 2.5], [3, 4], [-7, -2]]) {
        env.step([a], obs);
        expect(env.physics.ctrl[0]).toBe(ctrl);
      }
    } finally {
      env.dispose();
    }
  });

  it("accumulates rewards by 'sum' or 'discounted' over the action repeat", async () => {
    const sum = await TaskEnv.create(sliderTask('slider-sum', false), { actionRepeat: 3 });
    const disc = await TaskEnv.create(sliderTask('slider-disc', false), { actionRepeat: 3, rewardMode: 'discounted', rewardDiscount: 0.9 });
    // bmpc's preset: dm_control's time_step.discount is 1, so its discounted sum is the plain sum.
    const bmpc = await TaskEnv.create(sliderTask('slider-bmpc', false), { actionRepeat: 3, rewardMode: 'discounted' });
    try {
      const obs = new Float32Array(2);
      sum.reset(obs);
      disc.reset(obs);
      bmpc.reset(obs);
      expect(sum.step([0], obs)).toBe(3);
      expect(disc.step([0], obs)).toBeCloseTo(1 + 0.9 + 0.81, 12);
      expect(bmpc.step([0], obs)).toBe(3);
      expect(sum.maxEpisodeSteps).toBe(17); // ceil(50 control steps / 3)
    } finally {
      sum.dispose();
      disc.dispose();
      bmpc.dispose();
    }
    await expect(TaskEnv.create(sliderTask('slider-bad', false), { rewardMode: 'mean' as 'sum' })).rejects.toThrow(/rewardMode/);
    await expect(TaskEnv.create(sliderTask('slider-bad2', false), { actionRepeat: 0 })).rejects.toThrow(/actionRepeat/);
  });

  it('episodic tasks terminate (terminated true, truncated false) and stop the repeat early', async () => {
    const env = await TaskEnv.create(sliderTask('slider-episodic', true), { seed: 0 });
    try {
      const obs = new Float32Array(2);
      env.reset(obs);
      let steps = 0;
      while (!env.terminated && !env.truncated) {
        env.step([1], obs);
        steps++;
      }
      expect(env.terminated).toBe(true);
      expect(env.truncated).toBe(false);
      expect(obs[0]).toBeGreaterThan(0.5);
      expect(steps).toBeLessThan(env.maxEpisodeSteps);
    } finally {
      env.dispose();
    }
  });

  it('registers a custom task by name (once) and validates definitions', async () => {
    registerTask(sliderTask('slider-registered', false));
    expect(taskNames()).toContain('slider-registered');
    expect(() => registerTask(sliderTask('slider-registered', false))).toThrow(/already registered/);
    registerTask(sliderTask('slider-registered', false), { replace: true });
    const env = await TaskEnv.create('slider-registered');
    expect(env.obsDim).toBe(2);
    expect(env.maxEpisodeSteps).toBe(25);
    env.dispose();
    const base = { model: SLIDER_XML, timeLimit: 1, observation: { x: 1 }, create: () => ({}) as TaskLogic };
    expect(() => defineTask({ ...base, name: 'Bad Name' })).toThrow(/lowercase/);
    expect(() => defineTask({ ...base, name: 'ok', timeLimit: 0 })).toThrow(/timeLimit/);
    expect(() => defineTask({ ...base, name: 'ok', observation: { x: 0 } })).toThrow(/positive integer size/);
    const incomplete = defineTask({ ...base, name: 'incomplete' });
    await expect(TaskEnv.create(incomplete)).rejects.toThrow(/initializeEpisode/);
    const notMultiple = defineTask({ ...sliderTask('x', false), name: 'not-multiple', controlTimestep: 0.015, model: SLIDER_XML, observation: { x: 2 } });
    await expect(TaskEnv.create(notMultiple)).rejects.toThrow(/not a multiple/);
  });

  it('rejects a wrong action length, NaN or infinite actions, and stepping before reset', async () => {
    const env = await TaskEnv.create('reacher-easy');
    try {
      const obs = new Float32Array(env.obsDim);
      expect(() => env.step([0, 0], obs)).toThrow(/reset/);
      env.reset(obs);
      expect(() => env.step([0], obs)).toThrow(EnvError);
      expect(() => env.step([0], obs)).toThrow(/takes 2 action values per step; got 1/);
      expect(() => env.step([0, 0, 0], obs)).toThrow(/got 3/);
      expect(() => env.step([0, NaN], obs)).toThrow(/action\[1\] is NaN/);
      expect(() => env.step([Infinity, 0], obs)).toThrow(/action\[0\] is Infinity/);
      expect(env.step([0, 0], obs)).toBeGreaterThanOrEqual(0); // still usable
    } finally {
      env.dispose();
    }
  });
});
