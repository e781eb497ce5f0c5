// Cartpole tasks (dm_control suite/cartpole.py): balance and swing-up, each with a smooth and a
// sparse reward. 10 s episodes at a 10 ms control step (1000 control steps).
//   observation: position = [cart x, pole cos θ (xmat zz), pole sin θ (xmat xz)], velocity = qvel (2)
import { defineTask, type TaskSpec } from '../task.js';
import { tolerance } from '../rewards.js';
import { cartpoleModel } from '../models/cartpole.js';

const CART_RANGE = 0.25; // sparse reward: |x| <= 0.25
const ANGLE_COSINE_MIN = 0.995; // sparse reward: cos θ >= 0.995

function cartpole(name: string, swingUp: boolean, sparse: boolean): TaskSpec {
  return defineTask({
    name,
    domain: 'cartpole',
    description: `${swingUp ? 'swing the pole up from hanging and balance it' : 'keep the pole balanced'}, ${sparse ? 'sparse' : 'smooth'} reward`,
    model: cartpoleModel,
    timeLimit: 10,
    observation: [
      { name: 'position', size: 3 },
      { name: 'velocity', size: 2 },
    ],
    create(physics) {
      const slider = physics.jointQposAdr('slider');
      const hinge = physics.jointQposAdr('hinge_1');
      const pole = physics.id('body', 'pole_1');
      const nv = physics.nv;
      return {
        initializeEpisode(p, rng) {
          const qpos = p.qpos;
          const qvel = p.qvel;
          if (swingUp) {
            qpos[slider] = 0.01 * rng.normal();
            qpos[hinge] = Math.PI + 0.01 * rng.normal();
          } else {
            qpos[slider] = -0.1 + 0.2 * rng.uniform();
            qpos[hinge] = -0.034 + 0.068 * rng.uniform();
          }
          for (let i = 0; i < nv; i++) qvel[i] = 0.01 * rng.normal();
        },
        getObservation(p, out, o) {
          const xmat = p.xmat;
          const qvel = p.qvel;
          out[o] = p.qpos[slider];
          out[o + 1] = xmat[9 * pole + 8]; // zz
          out[o + 2] = xmat[9 * pole + 2]; // xz
          out[o + 3] = qvel[0];
          out[o + 4] = qvel[1];
        },
        getReward(p) {
          const x = p.qpos[slider];
          const cosine = p.xmat[9 * pole + 8];
          if (sparse) return Math.abs(x) <= CART_RANGE && cosine >= ANGLE_COSINE_MIN ? 1 : 0;
          const upright = (cosine + 1) / 2;
          const centered = (1 + tolerance(x, 0, 0, 2)) / 2;
          const smallControl = (4 + tolerance(p.ctrl[0], 0, 0, 1, 'quadratic', 0)) / 5;
          const smallVelocity = (1 + tolerance(p.qvel[1], 0, 0, 5)) / 2;
          return upright * smallControl * smallVelocity * centered;
        },
      };
    },
  });
}

export const cartpoleTasks: TaskSpec[] = [
  cartpole('cartpole-balance', false, false),
  cartpole('cartpole-balance-sparse', false, true),
  cartpole('cartpole-swingup', true, false),
  cartpole('cartpole-swingup-sparse', true, true),
];
