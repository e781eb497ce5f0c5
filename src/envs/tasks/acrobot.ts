// Acrobot swing-up (dm_control suite/acrobot.py): bring the tip to the target 4 m up. Smooth reward
// tol(|tip - target|, (0, r), margin 1, gaussian) with r the target site radius (0.2); the sparse
// variant uses margin 0. Both joints start uniform in [-π, π). 10 s at 10 ms per control step.
//   observation: orientations = [xz upper, xz lower, zz upper, zz lower], velocity = qvel (2)
import { defineTask, type TaskSpec } from '../task.js';
import { tolerance } from '../rewards.js';
import { acrobotModel } from '../models/acrobot.js';

function acrobot(name: string, sparse: boolean): TaskSpec {
  return defineTask({
    name,
    domain: 'acrobot',
    description: `swing the double pendulum up to the target, ${sparse ? 'sparse' : 'smooth'} reward`,
    model: acrobotModel,
    timeLimit: 10,
    observation: [
      { name: 'orientations', size: 4 },
      { name: 'velocity', size: 2 },
    ],
    create(physics) {
      const shoulder = physics.jointQposAdr('shoulder');
      const elbow = physics.jointQposAdr('elbow');
      const upper = physics.id('body', 'upper_arm');
      const lower = physics.id('body', 'lower_arm');
      const target = physics.id('site', 'target');
      const tip = physics.id('site', 'tip');
      const targetRadius = (physics.model.site_size as Float64Array)[3 * target];
      return {
        initializeEpisode(p, rng) {
          p.qpos[shoulder] = -Math.PI + 2 * Math.PI * rng.uniform();
          p.qpos[elbow] = -Math.PI + 2 * Math.PI * rng.uniform();
        },
        getObservation(p, out, o) {
          const xmat = p.xmat;
          const qvel = p.qvel;
          out[o] = xmat[9 * upper + 2];
          out[o + 1] = xmat[9 * lower + 2];
          out[o + 2] = xmat[9 * upper + 8];
          out[o + 3] = xmat[9 * lower + 8];
          out[o + 4] = qvel[0];
          out[o + 5] = qvel[1];
        },
        getReward(p) {
          const s = p.siteXpos;
          const dist = Math.hypot(s[3 * target] - s[3 * tip], s[3 * target + 1] - s[3 * tip + 1], s[3 * target + 2] - s[3 * tip + 2]);
          return tolerance(dist, 0, targetRadius, sparse ? 0 : 1);
        },
      };
    },
  });
}

export const acrobotTasks: TaskSpec[] = [acrobot('acrobot-swingup', false), acrobot('acrobot-swingup-sparse', true)];
