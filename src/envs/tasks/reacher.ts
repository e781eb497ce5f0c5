// Reacher easy / hard (dm_control suite/reacher.py): touch a randomly placed target with the
// fingertip. Reward 1 while |finger - target| (in the plane) <= target radius + finger radius,
// else 0; the target radius is 0.05 (easy) or 0.015 (hard). Joints start randomised, the target at
// angle U(0, 2π) and radius U(0.05, 0.2). 20 s at 20 ms per control step.
//   observation: position = qpos (2), to_target = (target - finger) xy (2), velocity = qvel (2)
import { defineTask, type TaskSpec } from '../task.js';
import { reacherModel } from '../models/reacher.js';
import { randomizeLimitedAndRotationalJoints } from '../randomizers.js';

function reacher(name: string, targetSize: number): TaskSpec {
  return defineTask({
    name,
    domain: 'reacher',
    description: `reach a target of radius ${targetSize} with a two-link arm, sparse reward`,
    model: reacherModel,
    timeLimit: 20,
    observation: [
      { name: 'position', size: 2 },
      { name: 'to_target', size: 2 },
      { name: 'velocity', size: 2 },
    ],
    create(physics) {
      const target = physics.id('geom', 'target');
      const finger = physics.id('geom', 'finger');
      (physics.model.geom_size as Float64Array)[3 * target] = targetSize;
      const radii = targetSize + (physics.model.geom_size as Float64Array)[3 * finger];
      return {
        initializeEpisode(p, rng) {
          randomizeLimitedAndRotationalJoints(p, rng);
          const angle = 2 * Math.PI * rng.uniform();
          const radius = 0.05 + 0.15 * rng.uniform();
          const geomPos = p.model.geom_pos as Float64Array;
          geomPos[3 * target] = radius * Math.sin(angle);
          geomPos[3 * target + 1] = radius * Math.cos(angle);
        },
        getObservation(p, out, o) {
          const qpos = p.qpos;
          const qvel = p.qvel;
          const g = p.geomXpos;
          out[o] = qpos[0];
          out[o + 1] = qpos[1];
          out[o + 2] = g[3 * target] - g[3 * finger];
          out[o + 3] = g[3 * target + 1] - g[3 * finger + 1];
          out[o + 4] = qvel[0];
          out[o + 5] = qvel[1];
        },
        getReward(p) {
          const g = p.geomXpos;
          const dist = Math.hypot(g[3 * target] - g[3 * finger], g[3 * target + 1] - g[3 * finger + 1]);
          return dist <= radii ? 1 : 0;
        },
      };
    },
  });
}

export const reacherTasks: TaskSpec[] = [reacher('reacher-easy', 0.05), reacher('reacher-hard', 0.015)];
