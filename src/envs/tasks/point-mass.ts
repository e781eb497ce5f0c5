// Point mass easy (dm_control suite/point_mass.py): bring the mass to the target at the origin
// with little control. Reward = tol(|target - mass|, (0, r), margin r, gaussian) · (4 + mean_i
// tol(u_i, margin 1, quadratic, 0)) / 5 with r = 0.015 the target radius. Positions start uniform
// within the joint ranges (±0.29). 20 s at 20 ms per control step.
//   observation: position = qpos (2), velocity = qvel (2)
import { defineTask, type TaskSpec } from '../task.js';
import { tolerance } from '../rewards.js';
import { pointMassModel } from '../models/point-mass.js';
import { randomizeLimitedAndRotationalJoints } from '../randomizers.js';

export const pointMassTasks: TaskSpec[] = [
  defineTask({
    name: 'pointmass-easy', // tdmpc2's name (its make_env maps pointmass -> point_mass)
    domain: 'point_mass',
    description: 'steer a point mass to the origin with small controls',
    model: pointMassModel,
    timeLimit: 20,
    observation: [
      { name: 'position', size: 2 },
      { name: 'velocity', size: 2 },
    ],
    create(physics) {
      const target = physics.id('geom', 'target');
      const mass = physics.id('geom', 'pointmass');
      const targetSize = (physics.model.geom_size as Float64Array)[3 * target];
      const nu = physics.nu;
      return {
        initializeEpisode(p, rng) {
          randomizeLimitedAndRotationalJoints(p, rng);
        },
        getObservation(p, out, o) {
          const qpos = p.qpos;
          const qvel = p.qvel;
          out[o] = qpos[0];
          out[o + 1] = qpos[1];
          out[o + 2] = qvel[0];
          out[o + 3] = qvel[1];
        },
        getReward(p) {
          const g = p.geomXpos;
          const dist = Math.hypot(g[3 * target] - g[3 * mass], g[3 * target + 1] - g[3 * mass + 1], g[3 * target + 2] - g[3 * mass + 2]);
          const nearTarget = tolerance(dist, 0, targetSize, targetSize);
          const ctrl = p.ctrl;
          let control = 0;
          for (let i = 0; i < nu; i++) control += tolerance(ctrl[i], 0, 0, 1, 'quadratic', 0);
          return (nearTarget * (control / nu + 4)) / 5;
        },
      };
    },
  }),
];
