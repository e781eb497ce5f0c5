// Hopper tasks (dm_control suite/hopper.py): stand and hop. 20 s episodes, physics 5 ms, control
// 20 ms (4 sub-steps): 1000 control steps.
//   observation (15): position = qpos[1:] (6), velocity = qvel (7),
//                     touch = log1p(toe and heel touch sensors) (2)
//   reward: standing = 1 if torso COM z − foot COM z ∈ [0.6, 2] else 0 (tol with margin 0);
//           stand: standing · (4 + mean_i tol(ctrl_i, margin 1, quadratic, value_at_margin 0)) / 5
//           hop:   standing · tol(torso subtree vx, [2, ∞), margin 1, linear, 0.5)
//                  (= clip(vx / 2, 0, 1))
//   initial state: joint randomizer (limited joints uniform in range, pitch root in [-π, π)).
import { defineTask, type TaskSpec } from '../task.js';
import { tolerance } from '../rewards.js';
import { randomizeLimitedAndRotationalJoints } from '../randomizers.js';
import { hopperModel } from '../models/hopper.js';

const STAND_HEIGHT = 0.6;
const MAX_HEIGHT = 2;
const HOP_SPEED = 2;

function hopper(name: string, hopping: boolean): TaskSpec {
  return defineTask({
    name,
    domain: 'hopper',
    description: hopping ? 'hop forward (full reward from 2 m/s) while keeping the torso up' : 'stand upright with little control effort',
    model: hopperModel,
    controlTimestep: 0.02,
    timeLimit: 20,
    observation: [
      { name: 'position', size: 6 },
      { name: 'velocity', size: 7 },
      { name: 'touch', size: 2 },
    ],
    create(physics) {
      const torso = physics.id('body', 'torso');
      const foot = physics.id('body', 'foot');
      const speedAdr = physics.sensor('torso_subtreelinvel').adr;
      const toeAdr = physics.sensor('touch_toe').adr;
      const heelAdr = physics.sensor('touch_heel').adr;
      const nq = physics.nq;
      const nv = physics.nv;
      const nu = physics.nu;
      return {
        initializeEpisode(p, rng) {
          randomizeLimitedAndRotationalJoints(p, rng);
        },
        getObservation(p, out, o) {
          const qpos = p.qpos;
          const qvel = p.qvel;
          for (let i = 1; i < nq; i++) out[o++] = qpos[i];
          for (let i = 0; i < nv; i++) out[o++] = qvel[i];
          const sensordata = p.sensordata;
          out[o++] = Math.log1p(sensordata[toeAdr]);
          out[o] = Math.log1p(sensordata[heelAdr]);
        },
        getReward(p) {
          const xipos = p.xipos;
          const height = xipos[3 * torso + 2] - xipos[3 * foot + 2];
          const standing = tolerance(height, STAND_HEIGHT, MAX_HEIGHT);
          if (hopping) {
            return standing * tolerance(p.sensordata[speedAdr], HOP_SPEED, Infinity, HOP_SPEED / 2, 'linear', 0.5);
          }
          const ctrl = p.ctrl;
          let smallControl = 0;
          for (let i = 0; i < nu; i++) smallControl += tolerance(ctrl[i], 0, 0, 1, 'quadratic', 0);
          smallControl /= nu;
          return (standing * (smallControl + 4)) / 5;
        },
      };
    },
  });
}

export const hopperTasks: TaskSpec[] = [hopper('hopper-stand', false), hopper('hopper-hop', true)];
