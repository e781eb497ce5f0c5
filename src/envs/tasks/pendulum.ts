// Pendulum swing-up (dm_control suite/pendulum.py): reward 1 while the pole is within 8° of
// upright, else 0. Starts at a uniform angle in [-π, π). 20 s at 20 ms per control step.
//   observation: orientation = [cos θ (xmat zz), sin θ (xmat xz)], velocity = [θ̇]
import { defineTask, type TaskSpec } from '../task.js';
import { pendulumModel } from '../models/pendulum.js';

const COSINE_BOUND = Math.cos((8 * Math.PI) / 180);

export const pendulumTasks: TaskSpec[] = [
  defineTask({
    name: 'pendulum-swingup',
    domain: 'pendulum',
    description: 'swing a torque-limited pendulum up and hold it, sparse reward',
    model: pendulumModel,
    timeLimit: 20,
    observation: [
      { name: 'orientation', size: 2 },
      { name: 'velocity', size: 1 },
    ],
    create(physics) {
      const hinge = physics.jointQposAdr('hinge');
      const hingeDof = physics.jointDofAdr('hinge');
      const pole = physics.id('body', 'pole');
      return {
        initializeEpisode(p, rng) {
          p.qpos[hinge] = -Math.PI + 2 * Math.PI * rng.uniform();
        },
        getObservation(p, out, o) {
          const xmat = p.xmat;
          out[o] = xmat[9 * pole + 8];
          out[o + 1] = xmat[9 * pole + 2];
          out[o + 2] = p.qvel[hingeDof];
        },
        getReward(p) {
          return p.xmat[9 * pole + 8] >= COSINE_BOUND ? 1 : 0;
        },
      };
    },
  }),
];
