// VectorEnv: batch layout, auto-reset with the final observation kept, per-env episode statistics,
// seeding (env i = seed + i, reproducible), caller-owned buffers, and bad input.
import { describe, expect, it } from 'vitest';
import { EnvError } from '../src/errors.js';
import { RngStream } from '../src/engine/rng.js';
import { TaskEnv } from '../src/envs/env.js';
import { VectorEnv } from '../src/envs/vector-env.js';
import { defineTask } from '../src/envs/task.js';

const N = 3;
const EPISODE = 7; // short episodes so auto-reset happens several times

function randomActions(rng: RngStream, length: number): Float32Array {
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = 2 * rng.uniform() - 1;
  return a;
}

describe('VectorEnv', () => {
  it('matches N independent TaskEnvs seeded base + i, through auto-resets', async () => {
    const task = 'reacher-easy';
    const venv = await VectorEnv.create(task, N, { seed: 100, maxEpisodeSteps: EPISODE });
    const singles = await Promise.all(Array.from({ length: N }, () => TaskEnv.create(task, { maxEpisodeSteps: EPISODE })));
    try {
      const O = venv.obsDim;
      const A = venv.actionDim;
      expect([O, A, venv.numEnvs]).toEqual([6, 2, N]);
      expect(venv.obs).toHaveLength(N * O);
      expect(venv.finalObs).toHaveLength(N * O);
      const obs = singles.map((e) => new Float32Array(O));
      venv.reset();
      singles.forEach((e, i) => e.reset(obs[i], 0, 100 + i));
      for (let i = 0; i < N; i++) expect(venv.obs.subarray(i * O, (i + 1) * O)).toEqual(obs[i]);

      const rng = new RngStream(1);
      const returns = new Array<number>(N).fill(0);
      let episodesDone = 0;
      for (let s = 1; s <= 3 * EPISODE; s++) {
        const actions = randomActions(rng, N * A);
        venv.step(actions);
        for (let i = 0; i < N; i++) {
          const r = singles[i].step(actions.subarray(i * A, (i + 1) * A), obs[i]);
          returns[i] += r;
          expect(venv.reward[i]).toBe(Math.fround(r));
          const done = s % EPISODE === 0;
          expect(venv.truncated[i]).toBe(done ? 1 : 0);
          expect(venv.terminated[i]).toBe(0);
          if (done) {
            // The final observation is kept; obs already holds the next episode's first one.
            expect(venv.finalObs.subarray(i * O, (i + 1) * O)).toEqual(obs[i]);
            expect(venv.finishedReturn[i]).toBeCloseTo(returns[i], 12);
            expect(venv.finishedLength[i]).toBe(EPISODE);
            expect(venv.episodeLength[i]).toBe(0);
            expect(venv.episodeReturn[i]).toBe(0);
            singles[i].reset(obs[i]); // the single env's RNG stream continues, like the vector env's
            returns[i] = 0;
            episodesDone++;
          } else {
            expect(Number.isNaN(venv.finishedReturn[i])).toBe(true);
            expect(venv.finishedLength[i]).toBe(0);
            expect(venv.episodeLength[i]).toBe(s % EPISODE);
            expect(venv.episodeReturn[i]).toBeCloseTo(returns[i], 12);
          }
          expect(venv.obs.subarray(i * O, (i + 1) * O)).toEqual(obs[i]);
        }
      }
      expect(episodesDone).toBe(3 * N);
    } finally {
      venv.dispose();
      singles.forEach((e) => e.dispose());
    }
  });

  it('is reproducible from the base seed, and different envs start differently', async () => {
    const run = async (seed: number) => {
      const venv = await VectorEnv.create('cartpole-swingup', N, { seed, maxEpisodeSteps: EPISODE });
      const rng = new RngStream(2);
      const trace: number[] = Array.from(venv.reset());
      for (let s = 0; s < 2 * EPISODE + 2; s++) {
        venv.step(randomActions(rng, N));
        trace.push(...venv.obs, ...venv.reward, ...venv.finalObs);
      }
      venv.dispose();
      return trace;
    };
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    expect(await run(8)).not.toEqual(a);
    expect(a.slice(0, 5)).not.toEqual(a.slice(5, 10)); // env 0 and env 1 differ
  });

  it('reports terminated episodes of episodic tasks and resets them alone', async () => {
    // Each env drifts right at 1 m/s (no actuators, no gravity); the episode ends when x > 0.3.
    const drift = defineTask({
      name: 'drift',
      model: `<mujoco><option timestep="0.01"><flag gravity="disable"/></option><worldbody><body><joint name="x" type="slide" axis="1 0 0"/><geom type="sphere" size="0.1" mass="1"/></body></worldbody></mujoco>`,
      timeLimit: 10,
      observation: { x: 1 },
      episodic: true,
      create: () => ({
        initializeEpisode: (p) => {
          p.qvel[0] = 1;
        },
        getObservation: (p, out, o) => {
          out[o] = p.qpos[0];
        },
        getReward: () => 0.5,
        terminated: (p) => p.qpos[0] > 0.3,
      }),
    });
    const venv = await VectorEnv.create(drift, 2, { actionRepeat: 2 });
    try {
      expect(venv.actionDim).toBe(0);
      venv.reset();
      const none = new Float32Array(0);
      let steps = 0;
      while (!venv.terminated[0]) {
        venv.step(none);
        steps++;
      }
      // 0.3 m at 1 m/s = 30 control steps = 15 agent steps (+1 for the crossing).
      expect(steps).toBeGreaterThanOrEqual(15);
      expect(steps).toBeLessThanOrEqual(16);
      expect(venv.truncated[0]).toBe(0);
      expect(venv.finalObs[0]).toBeGreaterThan(0.3);
      expect(venv.obs[0]).toBe(0); // restarted
      expect(venv.finishedLength[0]).toBe(steps);
    } finally {
      venv.dispose();
    }
  });

  it('writes into caller-owned buffers and checks their sizes', async () => {
    const shared = new SharedArrayBuffer(N * 5 * 4);
    const obs = new Float32Array(shared);
    const venv = await VectorEnv.create('cartpole-balance', N, { buffers: { obs } });
    try {
      expect(venv.obs).toBe(obs);
      venv.reset();
      expect(obs.some((v) => v !== 0)).toBe(true);
    } finally {
      venv.dispose();
    }
    await expect(VectorEnv.create('cartpole-balance', N, { buffers: { reward: new Float32Array(N + 1) } })).rejects.toThrow(/'reward' needs length 3; got 4/);
  });

  it('rejects bad batch sizes, NaN actions and bad env counts with clear errors', async () => {
    const venv = await VectorEnv.create('pointmass-easy', 2);
    try {
      venv.reset();
      expect(() => venv.step(new Float32Array(3))).toThrow(EnvError);
      expect(() => venv.step(new Float32Array(3))).toThrow(/2 envs x 2 actions = 4 values .*got 3/);
      const bad = new Float32Array(4);
      bad[2] = NaN;
      expect(() => venv.step(bad)).toThrow(/actions\[2\] \(env 1, action 0\) is NaN/);
      expect(venv.episodeLength[0]).toBe(0); // nothing was stepped
    } finally {
      venv.dispose();
    }
    await expect(VectorEnv.create('pointmass-easy', 0)).rejects.toThrow(/numEnvs/);
    await expect(VectorEnv.create('pointmass-eazy', 2)).rejects.toThrow(/did you mean 'pointmass-easy'/);
    // dm_control's domain spelling is accepted too.
    const alias = await VectorEnv.create('point-mass-easy', 1);
    expect(alias.obsDim).toBe(4);
    alias.dispose();
  });
});
