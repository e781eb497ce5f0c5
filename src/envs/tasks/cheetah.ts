// Cheetah run (dm_control suite/cheetah.py). 10 s episodes at a 10 ms physics and control step:
// 1000 control steps.
//   observation (17): position = qpos[1:] (8: everything but the root x, for translation
//                     invariance), velocity = qvel (9)
//   reward: tol(torso subtree vx, [10, ∞), margin 10, linear, value_at_margin 0) = clip(vx/10, 0, 1)
//   initial state: every limited joint uniform in its range, then 200 physics steps with zero
//                  control to let the body settle, then the clock is reset to 0.
import { defineTask, type TaskSpec } from '../task.js';
import { tolerance } from '../rewards.js';
import { cheetahModel } from '../models/cheetah.js';

const RUN_SPEED = 10;
const SETTLE_STEPS = 200;

export const cheetahRun: TaskSpec = defineTask({
  name: 'cheetah-run',
  domain: 'cheetah',
  description: 'run forward as fast as possible (full reward from 10 m/s)',
  model: cheetahModel,
  timeLimit: 10,
  observation: [
    { name: 'position', size: 8 },
    { name: 'velocity', size: 9 },
  ],
  create(physics) {
    const speedAdr = physics.sensor('torso_subtreelinvel').adr;
    const nq = physics.nq;
    const nv = physics.nv;
    // Every cheetah joint has one DoF, so joint j owns qpos[j]; only the 6 leg joints are limited.
    const limitedJoints: number[] = [];
    const limitedRange: number[] = [];
    for (let j = 0; j < physics.model.njnt; j++) {
      const joint = physics.model.jnt(j);
      try {
        if (joint.limited) {
          limitedJoints.push(Number(joint.qposadr));
          const range = joint.range as Float64Array;
          limitedRange.push(range[0], range[1]);
        }
      } finally {
        joint.delete();
      }
    }
    return {
      initializeEpisode(p, rng) {
        const qpos = p.qpos;
        for (let k = 0; k < limitedJoints.length; k++) {
          const lo = limitedRange[2 * k];
          const hi = limitedRange[2 * k + 1];
          qpos[limitedJoints[k]] = lo + (hi - lo) * rng.uniform();
        }
        // Settle with zero control. Physics.step begins with mj_step2 on the derived quantities
        // of the last forward pass (here: the reset pose), exactly as dm_control's legacy step
        // does in Cheetah.initialize_episode, so the first settling step matches the original.
        p.step(SETTLE_STEPS);
        p.time = 0;
      },
      getObservation(p, out, o) {
        const qpos = p.qpos;
        const qvel = p.qvel;
        for (let i = 1; i < nq; i++) out[o++] = qpos[i];
        for (let i = 0; i < nv; i++) out[o++] = qvel[i];
      },
      getReward(p) {
        return tolerance(p.sensordata[speedAdr], RUN_SPEED, Infinity, RUN_SPEED, 'linear', 0);
      },
    };
  },
});

export const cheetahTasks: TaskSpec[] = [cheetahRun];
