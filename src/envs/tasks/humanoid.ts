// Humanoid tasks (dm_control suite/humanoid.py): stand, walk (1 m/s) and run (10 m/s), with the
// suite's feature observation (not pure_state). 25 s episodes, physics 5 ms, control 25 ms
// (5 sub-steps): 1000 control steps.
//   observation (67): joint_angles = qpos[7:] (21), head_height = head z (1),
//     extremities = left hand, left foot, right hand, right foot positions relative to the torso,
//                   in the torso frame (12),
//     torso_vertical = torso xmat zx, zy, zz (3), com_velocity = torso subtree linvel (3),
//     velocity = qvel (27)
//   reward: small_control · standing · upright · (stand: dont_move | walk/run: move), with
//     standing = tol(head z, [1.4, ∞), margin 0.35, gaussian)
//     upright = tol(torso zz, [0.9, ∞), margin 1.9, linear, 0)
//     small_control = (4 + mean_i tol(ctrl_i, margin 1, quadratic, 0)) / 5
//     dont_move = mean over com vx, vy of tol(v, margin 2, gaussian)
//     move = (5 · tol(|com v_xy|, [speed, ∞), margin speed, linear, 0) + 1) / 6
//   initial state: joint randomizer (every hinge uniform in its range; the root keeps its 1.5 m
//                  position and takes a random orientation), redrawn until nothing touches.
import { defineTask, type TaskSpec } from '../task.js';
import { tolerance } from '../rewards.js';
import { placeWithoutContacts, randomizeLimitedAndRotationalJoints } from '../randomizers.js';
import { humanoidModel } from '../models/humanoid.js';

const STAND_HEIGHT = 1.4;
const WALK_SPEED = 1;
const RUN_SPEED = 10;
/** Root free joint: 7 qpos (position, quaternion), skipped by joint_angles. */
const ROOT_QPOS = 7;
/** dm_control retries without bound; a cap turns a broken model into an error instead of a hang. */
const MAX_POSE_ATTEMPTS = 10_000;

function humanoid(name: string, moveSpeed: number): TaskSpec {
  return defineTask({
    name,
    domain: 'humanoid',
    description: moveSpeed === 0 ? 'stand up and stay still' : `move at ${moveSpeed} m/s or faster while standing upright`,
    model: humanoidModel,
    controlTimestep: 0.025,
    timeLimit: 25,
    observation: [
      { name: 'joint_angles', size: 21 },
      { name: 'head_height', size: 1 },
      { name: 'extremities', size: 12 },
      { name: 'torso_vertical', size: 3 },
      { name: 'com_velocity', size: 3 },
      { name: 'velocity', size: 27 },
    ],
    create(physics) {
      const torso = physics.id('body', 'torso');
      const head = physics.id('body', 'head');
      // dm_control's order: for side in (left, right), for limb in (hand, foot).
      const extremities = Int32Array.of(
        physics.id('body', 'left_hand'),
        physics.id('body', 'left_foot'),
        physics.id('body', 'right_hand'),
        physics.id('body', 'right_foot'),
      );
      const comVelocity = physics.sensor('torso_subtreelinvel').adr;
      const nq = physics.nq;
      const nv = physics.nv;
      const nu = physics.nu;
      return {
        initializeEpisode(p, rng) {
          placeWithoutContacts(p, () => randomizeLimitedAndRotationalJoints(p, rng), name, MAX_POSE_ATTEMPTS);
        },
        getObservation(p, out, o) {
          const qpos = p.qpos;
          const xpos = p.xpos;
          const xmat = p.xmat;
          for (let i = ROOT_QPOS; i < nq; i++) out[o++] = qpos[i];
          out[o++] = xpos[3 * head + 2];
          // (limb − torso) · R: the offset expressed in the torso frame (R's columns are its axes).
          const t = 3 * torso;
          const r = 9 * torso;
          for (let k = 0; k < 4; k++) {
            const b = 3 * extremities[k];
            const dx = xpos[b] - xpos[t];
            const dy = xpos[b + 1] - xpos[t + 1];
            const dz = xpos[b + 2] - xpos[t + 2];
            for (let c = 0; c < 3; c++) out[o++] = dx * xmat[r + c] + dy * xmat[r + 3 + c] + dz * xmat[r + 6 + c];
          }
          out[o++] = xmat[r + 6];
          out[o++] = xmat[r + 7];
          out[o++] = xmat[r + 8];
          const sensordata = p.sensordata;
          for (let i = 0; i < 3; i++) out[o++] = sensordata[comVelocity + i];
          const qvel = p.qvel;
          for (let i = 0; i < nv; i++) out[o++] = qvel[i];
        },
        getReward(p) {
          const standing = tolerance(p.xpos[3 * head + 2], STAND_HEIGHT, Infinity, STAND_HEIGHT / 4);
          const upright = tolerance(p.xmat[9 * torso + 8], 0.9, Infinity, 1.9, 'linear', 0);
          const ctrl = p.ctrl;
          let smallControl = 0;
          for (let i = 0; i < nu; i++) smallControl += tolerance(ctrl[i], 0, 0, 1, 'quadratic', 0);
          smallControl = (4 + smallControl / nu) / 5;
          const vx = p.sensordata[comVelocity];
          const vy = p.sensordata[comVelocity + 1];
          if (moveSpeed === 0) {
            const dontMove = (tolerance(vx, 0, 0, 2) + tolerance(vy, 0, 0, 2)) / 2;
            return smallControl * standing * upright * dontMove;
          }
          const speed = Math.sqrt(vx * vx + vy * vy);
          const move = tolerance(speed, moveSpeed, Infinity, moveSpeed, 'linear', 0);
          return smallControl * standing * upright * ((5 * move + 1) / 6);
        },
      };
    },
  });
}

export const humanoidTasks: TaskSpec[] = [
  humanoid('humanoid-stand', 0),
  humanoid('humanoid-walk', WALK_SPEED),
  humanoid('humanoid-run', RUN_SPEED),
];
