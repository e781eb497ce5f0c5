// Cup catch (dm_control suite/ball_in_cup.py): swing the ball on its string into the cup. Reward 1
// while the ball centre is inside the cup's target box shrunk by the ball radius (|Δx| and |Δz| <
// half-size - radius), else 0. The ball starts at x ~ U(-0.2, 0.2), z ~ U(0.2, 0.5) (re-drawn
// while it penetrates anything). 20 s at a 20 ms control step (10 x 2 ms).
//   observation: position = qpos (4), velocity = qvel (4)
import { defineTask, type TaskSpec } from '../task.js';
import { ballInCupModel } from '../models/ball-in-cup.js';
import { placeWithoutContacts } from '../randomizers.js';

export const ballInCupTasks: TaskSpec[] = [
  defineTask({
    name: 'cup-catch',
    domain: 'ball_in_cup',
    description: 'catch a ball on a string in a cup',
    model: ballInCupModel,
    controlTimestep: 0.02,
    timeLimit: 20,
    observation: [
      { name: 'position', size: 4 },
      { name: 'velocity', size: 4 },
    ],
    create(physics) {
      const ballX = physics.jointQposAdr('ball_x');
      const ballZ = physics.jointQposAdr('ball_z');
      const target = physics.id('site', 'target');
      const ball = physics.id('body', 'ball');
      const siteSize = physics.model.site_size as Float64Array;
      const ballRadius = (physics.model.geom_size as Float64Array)[3 * physics.id('geom', 'ball')];
      const limitX = siteSize[3 * target] - ballRadius;
      const limitZ = siteSize[3 * target + 2] - ballRadius;
      const nq = physics.nq;
      const nv = physics.nv;
      return {
        initializeEpisode(p, rng) {
          placeWithoutContacts(
            p,
            () => {
              p.qpos[ballX] = -0.2 + 0.4 * rng.uniform();
              p.qpos[ballZ] = 0.2 + 0.3 * rng.uniform();
            },
            'cup-catch',
          );
        },
        getObservation(p, out, o) {
          const qpos = p.qpos;
          const qvel = p.qvel;
          for (let i = 0; i < nq; i++) out[o + i] = qpos[i];
          for (let i = 0; i < nv; i++) out[o + nq + i] = qvel[i];
        },
        getReward(p) {
          const s = p.siteXpos;
          const x = p.xpos;
          const dx = Math.abs(s[3 * target] - x[3 * ball]);
          const dz = Math.abs(s[3 * target + 2] - x[3 * ball + 2]);
          return dx < limitX && dz < limitZ ? 1 : 0;
        },
      };
    },
  }),
];
