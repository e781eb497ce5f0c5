// Finger spin / turn (dm_control suite/finger.py). Every observation is read from the sensors.
//   spin: the spinner's hinge damping is lowered to 0.03; reward 1 while its angular velocity is
//         <= -15 rad/s, else 0.
//   turn: a target is placed on the circle the spinner tip sweeps (angle U(-π, π)); reward 1 while
//         the tip is inside it (|target - tip| <= r, r = 0.07 easy / 0.03 hard), else 0.
// Joints start randomised, re-drawn until nothing touches. 20 s at a 20 ms control step (2 x 10 ms).
//   observation: position = [proximal, distal, tip - spinner (x, z)] (4),
//                velocity = [proximal, distal, hinge] (3), touch = log1p(top, bottom) (2),
//                turn only: target_position = target - spinner (x, z) (2), dist_to_target (1)
import { defineTask, type ObservationKey, type TaskSpec } from '../task.js';
import { fingerModel } from '../models/finger.js';
import { placeWithoutContacts, randomizeLimitedAndRotationalJoints } from '../randomizers.js';

const SPIN_VELOCITY = 15;
const EASY_TARGET_SIZE = 0.07;
const HARD_TARGET_SIZE = 0.03;

const BASE_OBSERVATION: ObservationKey[] = [
  { name: 'position', size: 4 },
  { name: 'velocity', size: 3 },
  { name: 'touch', size: 2 },
];

/** `targetRadius` undefined = spin, else turn with that target radius. */
function finger(name: string, targetRadius: number | undefined): TaskSpec {
  const turn = targetRadius !== undefined;
  return defineTask({
    name,
    domain: 'finger',
    description: turn ? `turn the spinner's tip into a target of radius ${targetRadius}` : 'spin the body fast (<= -15 rad/s)',
    model: fingerModel,
    controlTimestep: 0.02,
    timeLimit: 20,
    observation: turn
      ? [...BASE_OBSERVATION, { name: 'target_position', size: 2 }, { name: 'dist_to_target', size: 1 }]
      : BASE_OBSERVATION,
    create(physics) {
      const s = (n: string) => physics.sensor(n).adr;
      const proximal = s('proximal');
      const distal = s('distal');
      const proximalVel = s('proximal_velocity');
      const distalVel = s('distal_velocity');
      const hingeVel = s('hinge_velocity');
      const tip = s('tip');
      const target = s('target');
      const spinner = s('spinner');
      const touchTop = s('touchtop');
      const touchBottom = s('touchbottom');
      const targetSite = physics.id('site', 'target');
      const hingeJoint = physics.id('joint', 'hinge');
      const model = physics.model;
      if (turn) {
        (model.site_size as Float64Array)[3 * targetSite] = targetRadius;
      } else {
        (model.dof_damping as Float64Array)[physics.jointDofAdr('hinge')] = 0.03;
      }
      // The tip sweeps a circle of radius cap1 half-length + cap1 radius about the hinge anchor.
      const cap1 = physics.id('geom', 'cap1');
      const sweep = (model.geom_size as Float64Array)[3 * cap1] + (model.geom_size as Float64Array)[3 * cap1 + 1];
      const distToTarget = (p: typeof physics): number => {
        const d = p.sensordata;
        const dx = d[target] - d[tip];
        const dz = d[target + 2] - d[tip + 2];
        return Math.hypot(dx, dz) - (turn ? targetRadius : 0);
      };
      return {
        initializeEpisode(p, rng) {
          if (turn) {
            const angle = -Math.PI + 2 * Math.PI * rng.uniform();
            const anchor = p.data.xanchor as Float64Array; // valid: reset() ran mj_forward
            const sitePos = p.model.site_pos as Float64Array;
            sitePos[3 * targetSite] = anchor[3 * hingeJoint] + sweep * Math.sin(angle);
            sitePos[3 * targetSite + 2] = anchor[3 * hingeJoint + 2] + sweep * Math.cos(angle);
          }
          placeWithoutContacts(p, () => randomizeLimitedAndRotationalJoints(p, rng), name);
        },
        getObservation(p, out, o) {
          const d = p.sensordata;
          out[o] = d[proximal];
          out[o + 1] = d[distal];
          out[o + 2] = d[tip] - d[spinner];
          out[o + 3] = d[tip + 2] - d[spinner + 2];
          out[o + 4] = d[proximalVel];
          out[o + 5] = d[distalVel];
          out[o + 6] = d[hingeVel];
          out[o + 7] = Math.log1p(d[touchTop]);
          out[o + 8] = Math.log1p(d[touchBottom]);
          if (turn) {
            out[o + 9] = d[target] - d[spinner];
            out[o + 10] = d[target + 2] - d[spinner + 2];
            out[o + 11] = distToTarget(p);
          }
        },
        getReward(p) {
          if (turn) return distToTarget(p) <= 0 ? 1 : 0;
          return p.sensordata[hingeVel] <= -SPIN_VELOCITY ? 1 : 0;
        },
      };
    },
  });
}

export const fingerTasks: TaskSpec[] = [
  finger('finger-spin', undefined),
  finger('finger-turn-easy', EASY_TARGET_SIZE),
  finger('finger-turn-hard', HARD_TARGET_SIZE),
];
