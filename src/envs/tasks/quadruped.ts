// Quadruped tasks (dm_control suite/quadruped.py, the Move task): walk (0.5 m/s) and run (5 m/s)
// on a flat floor. 20 s episodes, physics 5 ms, control 20 ms (4 sub-steps): 1000 control steps.
//   observation (78):
//     egocentric_state = hinge qpos (16), hinge qvel (16), actuator activations (12)
//     torso_velocity   = velocimeter at the torso site, in the torso frame (3)
//     torso_upright    = torso zz (1)
//     imu              = accelerometer, gyro sensors in model order (6)
//     force_torque     = asinh of the toe force sensors, then the toe torque sensors (24)
//   reward: upright · move, with upright = tol(torso zz, [1, ∞), margin 2, linear, 0)
//           = (1 + zz) / 2 and move = tol(torso-frame vx, [speed, ∞), margin speed, linear, 0.5)
//           = clip((vx + speed) / (2 · speed), 0, 1): standing still upright earns 0.5.
//   initial state: uniformly random orientation (normalised 4-d normal), joints at zero, then the
//                  body is raised from z = 0 in 1 cm steps until nothing touches; it then falls
//                  and rights itself under the policy.
import { EnvError } from '../../errors.js';
import { defineTask, type TaskSpec } from '../task.js';
import { tolerance } from '../rewards.js';
import { quadrupedModel } from '../models/quadruped.js';
import type { Physics } from '../physics.js';

const WALK_SPEED = 0.5;
const RUN_SPEED = 5;
const TIME_LIMIT = 20;
const HEIGHT_INCREMENT = 0.01;
/** dm_control gives up after 10000 raises (100 m). */
const MAX_HEIGHT_ATTEMPTS = 10_000;

// Values of mjtJoint and mjtSensor used here.
const JOINT_HINGE = 3;
const SENSOR_ACCELEROMETER = 1;
const SENSOR_GYRO = 3;
const SENSOR_FORCE = 4;
const SENSOR_TORQUE = 5;

/** sensordata addresses of every scalar of the sensors whose type is in `types`, in model order. */
function sensorScalars(physics: Physics, types: readonly number[]): Int32Array {
  const model = physics.model;
  const sensorType = model.sensor_type as Int32Array;
  const sensorAdr = model.sensor_adr as Int32Array;
  const sensorDim = model.sensor_dim as Int32Array;
  const out: number[] = [];
  for (let s = 0; s < model.nsensor; s++) {
    if (types.includes(sensorType[s])) for (let k = 0; k < sensorDim[s]; k++) out.push(sensorAdr[s] + k);
  }
  return Int32Array.from(out);
}

function quadruped(name: string, desiredSpeed: number): TaskSpec {
  return defineTask({
    name,
    domain: 'quadruped',
    description: `move forward at ${desiredSpeed} m/s or faster while upright`,
    // dm_control sizes the floor to time_limit · speed (quadruped.make_model).
    model: () => quadrupedModel(TIME_LIMIT * desiredSpeed),
    controlTimestep: 0.02,
    timeLimit: TIME_LIMIT,
    observation: [
      { name: 'egocentric_state', size: 44 },
      { name: 'torso_velocity', size: 3 },
      { name: 'torso_upright', size: 1 },
      { name: 'imu', size: 6 },
      { name: 'force_torque', size: 24 },
    ],
    create(physics) {
      const model = physics.model;
      const torso = physics.id('body', 'torso');
      const root = physics.jointQposAdr('root');
      const velocimeter = physics.sensor('velocimeter').adr;
      const jointType = model.jnt_type as Int32Array;
      const hingeQpos: number[] = [];
      const hingeDof: number[] = [];
      for (let j = 0; j < model.njnt; j++) {
        if (jointType[j] !== JOINT_HINGE) continue;
        hingeQpos.push((model.jnt_qposadr as Int32Array)[j]);
        hingeDof.push((model.jnt_dofadr as Int32Array)[j]);
      }
      const hingeQposAdr = Int32Array.from(hingeQpos);
      const hingeDofAdr = Int32Array.from(hingeDof);
      // dm_control lists these sensors by type in model order (Physics._get_sensor_names).
      const imu = sensorScalars(physics, [SENSOR_GYRO, SENSOR_ACCELEROMETER]);
      const forceTorque = sensorScalars(physics, [SENSOR_FORCE, SENSOR_TORQUE]);
      const na = physics.na;
      return {
        initializeEpisode(p, rng) {
          const qpos = p.qpos;
          const qw = rng.normal();
          const qx = rng.normal();
          const qy = rng.normal();
          const qz = rng.normal();
          const norm = Math.hypot(qw, qx, qy, qz);
          qpos[root + 3] = qw / norm;
          qpos[root + 4] = qx / norm;
          qpos[root + 5] = qy / norm;
          qpos[root + 6] = qz / norm;
          // _find_non_contacting_height: start embedded in the floor and raise by 1 cm until no
          // contact remains. The env reset left every other coordinate at qpos0 with zero velocity.
          let z = 0;
          for (let attempt = 0; attempt < MAX_HEIGHT_ATTEMPTS; attempt++) {
            qpos[root] = 0;
            qpos[root + 1] = 0;
            qpos[root + 2] = z;
            p.forward();
            if (p.data.ncon === 0) return;
            z += HEIGHT_INCREMENT;
          }
          throw new EnvError(`${name}: no contact-free starting height found`);
        },
        getObservation(p, out, o) {
          const qpos = p.qpos;
          const qvel = p.qvel;
          const act = p.act;
          const sensordata = p.sensordata;
          for (let k = 0; k < hingeQposAdr.length; k++) out[o++] = qpos[hingeQposAdr[k]];
          for (let k = 0; k < hingeDofAdr.length; k++) out[o++] = qvel[hingeDofAdr[k]];
          for (let k = 0; k < na; k++) out[o++] = act[k];
          for (let k = 0; k < 3; k++) out[o++] = sensordata[velocimeter + k];
          out[o++] = p.xmat[9 * torso + 8];
          for (let k = 0; k < imu.length; k++) out[o++] = sensordata[imu[k]];
          for (let k = 0; k < forceTorque.length; k++) out[o++] = Math.asinh(sensordata[forceTorque[k]]);
        },
        getReward(p) {
          const upright = tolerance(p.xmat[9 * torso + 8], 1, Infinity, 2, 'linear', 0);
          const move = tolerance(p.sensordata[velocimeter], desiredSpeed, Infinity, desiredSpeed, 'linear', 0.5);
          return upright * move;
        },
      };
    },
  });
}

export const quadrupedTasks: TaskSpec[] = [quadruped('quadruped-walk', WALK_SPEED), quadruped('quadruped-run', RUN_SPEED)];
