// Walker tasks (dm_control suite/walker.py): stand, walk (1 m/s) and run (8 m/s) with the planar
// biped. 25 s episodes, physics 2.5 ms, control 25 ms (10 sub-steps): 1000 control steps.
//   observation (24): orientations = xx and xz of the 7 non-world bodies' frames (14, interleaved
//                     per body), height = torso z (1), velocity = qvel (9)
//   reward: stand = (3·standing + upright) / 4 with
//             standing = tol(torso z, [1.2, ∞), margin 0.6, gaussian), upright = (1 + torso zz) / 2
//           walk/run: stand · (5·move + 1) / 6, move = tol(com vx, [speed, ∞), margin speed/2,
//             linear, value_at_margin 0.5) (= clip(vx / speed, 0, 1))
//   initial state: joint randomizer (limited joints uniform in range, the unlimited pitch root
//                  uniform in [-π, π)), zero velocity; the walker usually starts falling.
import { defineTask, type TaskSpec } from '../task.js';
import { tolerance } from '../rewards.js';
import { randomizeLimitedAndRotationalJoints } from '../randomizers.js';
import { walkerModel } from '../models/walker.js';

const STAND_HEIGHT = 1.2;
const WALK_SPEED = 1;
const RUN_SPEED = 8;

function walker(name: string, moveSpeed: number): TaskSpec {
  return defineTask({
    name,
    domain: 'walker',
    description: moveSpeed === 0 ? 'stand up and stay upright' : `move forward at ${moveSpeed} m/s or faster while upright`,
    model: walkerModel,
    controlTimestep: 0.025,
    timeLimit: 25,
    observation: [
      { name: 'orientations', size: 14 },
      { name: 'height', size: 1 },
      { name: 'velocity', size: 9 },
    ],
    create(physics) {
      const torso = physics.id('body', 'torso');
      const comVelocity = physics.sensor('torso_subtreelinvel').adr;
      const nbody = physics.nbody;
      const nv = physics.nv;

      function standReward(xpos: Float64Array, xmat: Float64Array): number {
        const standing = tolerance(xpos[3 * torso + 2], STAND_HEIGHT, Infinity, STAND_HEIGHT / 2);
        const upright = (1 + xmat[9 * torso + 8]) / 2;
        return (3 * standing + upright) / 4;
      }

      return {
        initializeEpisode(p, rng) {
          randomizeLimitedAndRotationalJoints(p, rng);
        },
        getObservation(p, out, o) {
          const xmat = p.xmat;
          // Bodies 1..nbody-1 (skipping the world body): xx, xz of each frame.
          for (let b = 1; b < nbody; b++) {
            out[o++] = xmat[9 * b];
            out[o++] = xmat[9 * b + 2];
          }
          out[o++] = p.xpos[3 * torso + 2];
          const qvel = p.qvel;
          for (let i = 0; i < nv; i++) out[o++] = qvel[i];
        },
        getReward(p) {
          const stand = standReward(p.xpos, p.xmat);
          if (moveSpeed === 0) return stand;
          const vx = p.sensordata[comVelocity];
          const move = tolerance(vx, moveSpeed, Infinity, moveSpeed / 2, 'linear', 0.5);
          return (stand * (5 * move + 1)) / 6;
        },
      };
    },
  });
}

export const walkerTasks: TaskSpec[] = [
  walker('walker-stand', 0),
  walker('walker-walk', WALK_SPEED),
  walker('walker-run', RUN_SPEED),
];
