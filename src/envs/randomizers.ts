// Initial-state randomisation shared by many tasks (dm_control/suite/utils/randomizers.py).
import { EnvError } from '../errors.js';
import type { RngStream } from '../engine/rng.js';
import type { Physics } from './physics.js';

// mjtJoint values.
const FREE = 0;
const BALL = 1;
const SLIDE = 2;
const HINGE = 3;

interface JointInfo {
  type: Int32Array; // [njnt]
  limited: Uint8Array; // [njnt]
  range: Float64Array; // [njnt, 2]
  qposadr: Int32Array; // [njnt]
}

// Joint tables are constant per model; cache them (mjtByte fields need one binding call each).
const jointCache = new WeakMap<Physics, JointInfo>();

function jointInfo(physics: Physics): JointInfo {
  let info = jointCache.get(physics);
  if (!info) {
    const model = physics.model;
    const njnt = model.njnt;
    const limited = new Uint8Array(njnt);
    for (let j = 0; j < njnt; j++) {
      const joint = model.jnt(j);
      limited[j] = joint.limited ? 1 : 0;
      joint.delete();
    }
    info = {
      type: Int32Array.from(model.jnt_type as Int32Array),
      limited,
      range: Float64Array.from(model.jnt_range as Float64Array),
      qposadr: Int32Array.from(model.jnt_qposadr as Int32Array),
    };
    jointCache.set(physics, info);
  }
  return info;
}

/**
 * Randomises every joint, in joint order: limited hinges and slides uniformly within their range,
 * unlimited hinges in [-π, π), limited balls by a random axis and an angle up to the range's upper
 * bound, unlimited balls by a normalised normal quaternion, free joints' orientation by a
 * normalised uniform quaternion (dm_control keeps that historical choice; we follow it).
 */
export function randomizeLimitedAndRotationalJoints(physics: Physics, rng: RngStream): void {
  const info = jointInfo(physics);
  const qpos = physics.qpos;
  for (let j = 0; j < info.type.length; j++) {
    const type = info.type[j];
    const adr = info.qposadr[j];
    const lo = info.range[2 * j];
    const hi = info.range[2 * j + 1];
    if (info.limited[j]) {
      if (type === HINGE || type === SLIDE) {
        qpos[adr] = lo + (hi - lo) * rng.uniform();
      } else if (type === BALL) {
        randomLimitedQuaternion(rng, hi, qpos, adr);
      }
    } else if (type === HINGE) {
      qpos[adr] = -Math.PI + 2 * Math.PI * rng.uniform();
    } else if (type === BALL) {
      normalizeInto(rng.normal(), rng.normal(), rng.normal(), rng.normal(), qpos, adr);
    } else if (type === FREE) {
      normalizeInto(rng.uniform(), rng.uniform(), rng.uniform(), rng.uniform(), qpos, adr + 3);
    }
  }
}

/** A unit quaternion rotating by an angle in [0, limit) about a random axis, written at out[o..o+4). */
export function randomLimitedQuaternion(rng: RngStream, limit: number, out: Float64Array, o: number): void {
  let x = rng.normal();
  let y = rng.normal();
  let z = rng.normal();
  const norm = Math.hypot(x, y, z);
  x /= norm;
  y /= norm;
  z /= norm;
  const half = (rng.uniform() * limit) / 2;
  const s = Math.sin(half);
  out[o] = Math.cos(half);
  out[o + 1] = x * s;
  out[o + 2] = y * s;
  out[o + 3] = z * s;
}

function normalizeInto(w: number, x: number, y: number, z: number, out: Float64Array, o: number): void {
  const norm = Math.hypot(w, x, y, z);
  out[o] = w / norm;
  out[o + 1] = x / norm;
  out[o + 2] = y / norm;
  out[o + 3] = z / norm;
}

/**
 * Repeats `place` (which writes qpos from rng) until the state has no contacts, like dm_control's
 * rejection loops (finger, ball_in_cup). Runs forward() after each try; throws after maxAttempts.
 */
export function placeWithoutContacts(physics: Physics, place: () => void, what: string, maxAttempts = 1000): void {
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    place();
    physics.forward();
    if (physics.data.ncon === 0) return;
  }
  throw new EnvError(`could not find a contact-free initial state for ${what} in ${maxAttempts} attempts`);
}
