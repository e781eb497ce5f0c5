// Compares a built-in model with the original dm_control XML (../shared/dm_control, reference data
// read at test time, never copied). Table-driven: another test file adds rows by calling
// defineModelComparisons([...]) with its own models.
//
// Static check: sizes, timestep, integrator, option flags, per-body mass / inertia / com frame,
// per-joint type / axis / range / limits / damping / armature / stiffness / friction loss, actuator
// gear / ctrlrange / transmission, tendon ranges, sensor types. Objects are matched by name, so
// the built-in models keep dm_control's names. Dynamic check: both models start from the same
// perturbed state and run the same action sequence; qpos, qvel and sensordata must agree.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Physics, type ModelSource } from '../../src/envs/physics.js';
import { RngStream } from '../../src/engine/rng.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DM_CONTROL_DIR = path.resolve(REPO_ROOT, '../shared/dm_control');
export const HAVE_DM_CONTROL = fs.existsSync(DM_CONTROL_DIR);

export interface ModelComparison {
  /** Row name, e.g. 'cartpole'. */
  name: string;
  /** The original file in DM_CONTROL_DIR, e.g. 'cartpole.xml'. */
  original: string;
  /** The built-in model. */
  builtin: () => ModelSource;
  /** Steps of the dynamic comparison (default 200). */
  steps?: number;
  /** Max abs difference allowed in qpos/qvel/sensordata (default 1e-6). */
  tolerance?: number;
  /** Scale of the initial-state perturbation of qpos/qvel (default 0.05). */
  perturbation?: number;
  /** Writes the initial state (default: qpos0 + noise, with quaternions renormalised). */
  initialState?: (physics: Physics, rng: RngStream) => void;
  /** Require contacts during the trajectory (so contact parameters are exercised). */
  expectContacts?: boolean;
}

/** Loads an original dm_control model with its `common/*.xml` includes through the VFS. */
export function originalSource(file: string): ModelSource {
  const includes: Record<string, string> = {};
  const common = path.join(DM_CONTROL_DIR, 'common');
  for (const f of fs.readdirSync(common)) includes[`common/${f}`] = fs.readFileSync(path.join(common, f), 'utf8');
  return { xml: fs.readFileSync(path.join(DM_CONTROL_DIR, file), 'utf8'), includes, name: file };
}

// mjtObj values used for name lookups.
const OBJ_BODY = 1;
const OBJ_JOINT = 3;
const OBJ_GEOM = 5;
const OBJ_SITE = 6;
const OBJ_ACTUATOR = 19;
const OBJ_TENDON = 18;
const OBJ_SENSOR = 20;

function names(p: Physics, objType: number, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(p.mj.mj_id2name(p.model, objType, i) ?? '');
  return out;
}

function rows(arr: ArrayLike<number>, width: number, i: number): number[] {
  return Array.from({ length: width }, (_, k) => arr[i * width + k]);
}

/** Lists every static difference between two compiled models (empty when physically equal). */
export function staticDifferences(orig: Physics, built: Physics, tol = 1e-9): string[] {
  const diffs: string[] = [];
  const mo = orig.model;
  const mb = built.model;
  const near = (what: string, a: ArrayLike<number>, b: ArrayLike<number>) => {
    if (a.length !== b.length) return void diffs.push(`${what}: length ${a.length} vs ${b.length}`);
    for (let i = 0; i < a.length; i++) {
      const scale = Math.max(1, Math.abs(a[i]));
      if (!(Math.abs(a[i] - b[i]) <= tol * scale)) return void diffs.push(`${what}: ${Array.from(a).join(' ')} vs ${Array.from(b).join(' ')}`);
    }
  };
  for (const key of ['nq', 'nv', 'nu', 'na', 'nbody', 'njnt', 'ntendon', 'nsensor', 'nsensordata', 'neq'] as const) {
    if (mo[key] !== mb[key]) diffs.push(`${key}: ${mo[key]} vs ${mb[key]}`);
  }
  const oo = mo.opt;
  const ob = mb.opt;
  for (const key of ['timestep', 'integrator', 'disableflags', 'enableflags', 'cone', 'iterations', 'tolerance', 'impratio', 'solver', 'jacobian'] as const) {
    if (oo[key] !== ob[key]) diffs.push(`opt.${key}: ${oo[key]} vs ${ob[key]}`);
  }
  near('opt.gravity', oo.gravity, ob.gravity);
  const contactsOff = (oo.disableflags & 16) !== 0; // mjDSBL_CONTACT (equal in both, checked above)
  oo.delete();
  ob.delete();
  if (diffs.length) return diffs;

  const bodyB = names(built, OBJ_BODY, mb.nbody);
  names(orig, OBJ_BODY, mo.nbody).forEach((name, i) => {
    const j = bodyB.indexOf(name);
    if (j < 0) return void diffs.push(`body '${name}' missing`);
    near(`body '${name}' parent`, [bodyB.indexOf(names(orig, OBJ_BODY, mo.nbody)[(mo.body_parentid as Int32Array)[i]])], [(mb.body_parentid as Int32Array)[j]]);
    near(`body '${name}' mass`, [(mo.body_mass as Float64Array)[i]], [(mb.body_mass as Float64Array)[j]]);
    near(`body '${name}' inertia`, rows(mo.body_inertia, 3, i), rows(mb.body_inertia, 3, j));
    near(`body '${name}' ipos`, rows(mo.body_ipos, 3, i), rows(mb.body_ipos, 3, j));
    near(`body '${name}' iquat`, rows(mo.body_iquat, 4, i), rows(mb.body_iquat, 4, j));
    near(`body '${name}' pos`, rows(mo.body_pos, 3, i), rows(mb.body_pos, 3, j));
    near(`body '${name}' quat`, rows(mo.body_quat, 4, i), rows(mb.body_quat, 4, j));
  });
  const jointB = names(built, OBJ_JOINT, mb.njnt);
  names(orig, OBJ_JOINT, mo.njnt).forEach((name, i) => {
    const j = jointB.indexOf(name);
    if (j < 0) return void diffs.push(`joint '${name}' missing`);
    const jo = mo.jnt(i);
    const jb = mb.jnt(j);
    if (jo.limited !== jb.limited) diffs.push(`joint '${name}' limited: ${jo.limited} vs ${jb.limited}`);
    jo.delete();
    jb.delete();
    near(`joint '${name}' type`, [(mo.jnt_type as Int32Array)[i]], [(mb.jnt_type as Int32Array)[j]]);
    near(`joint '${name}' qposadr`, [(mo.jnt_qposadr as Int32Array)[i]], [(mb.jnt_qposadr as Int32Array)[j]]);
    near(`joint '${name}' axis`, rows(mo.jnt_axis, 3, i), rows(mb.jnt_axis, 3, j));
    near(`joint '${name}' pos`, rows(mo.jnt_pos, 3, i), rows(mb.jnt_pos, 3, j));
    near(`joint '${name}' range`, rows(mo.jnt_range, 2, i), rows(mb.jnt_range, 2, j));
    near(`joint '${name}' stiffness`, [(mo.jnt_stiffness as Float64Array)[i]], [(mb.jnt_stiffness as Float64Array)[j]]);
    near(`joint '${name}' solref`, rows(mo.jnt_solref, 2, i), rows(mb.jnt_solref, 2, j));
    near(`joint '${name}' solimp`, rows(mo.jnt_solimp, 5, i), rows(mb.jnt_solimp, 5, j));
    near(`joint '${name}' margin`, [(mo.jnt_margin as Float64Array)[i]], [(mb.jnt_margin as Float64Array)[j]]);
  });
  near('qpos0', mo.qpos0, mb.qpos0);
  near('qpos_spring', mo.qpos_spring, mb.qpos_spring);
  near('dof_damping', mo.dof_damping, mb.dof_damping);
  near('dof_armature', mo.dof_armature, mb.dof_armature);
  near('dof_frictionloss', mo.dof_frictionloss, mb.dof_frictionloss);
  const actB = names(built, OBJ_ACTUATOR, mb.nu);
  names(orig, OBJ_ACTUATOR, mo.nu).forEach((name, i) => {
    const j = actB.indexOf(name);
    if (j < 0) return void diffs.push(`actuator '${name}' missing`);
    near(`actuator '${name}' index`, [i], [j]);
    near(`actuator '${name}' gear`, rows(mo.actuator_gear, 6, i), rows(mb.actuator_gear, 6, j));
    near(`actuator '${name}' ctrlrange`, rows(mo.actuator_ctrlrange, 2, i), rows(mb.actuator_ctrlrange, 2, j));
    near(`actuator '${name}' trntype`, [(mo.actuator_trntype as Int32Array)[i]], [(mb.actuator_trntype as Int32Array)[j]]);
    near(`actuator '${name}' dyn/gain/bias type`, [(mo.actuator_dyntype as Int32Array)[i], (mo.actuator_gaintype as Int32Array)[i], (mo.actuator_biastype as Int32Array)[i]], [(mb.actuator_dyntype as Int32Array)[j], (mb.actuator_gaintype as Int32Array)[j], (mb.actuator_biastype as Int32Array)[j]]);
    near(`actuator '${name}' gainprm`, rows(mo.actuator_gainprm, 10, i), rows(mb.actuator_gainprm, 10, j));
    near(`actuator '${name}' biasprm`, rows(mo.actuator_biasprm, 10, i), rows(mb.actuator_biasprm, 10, j));
    near(`actuator '${name}' dynprm`, rows(mo.actuator_dynprm, 10, i), rows(mb.actuator_dynprm, 10, j));
    near(`actuator '${name}' forcerange`, rows(mo.actuator_forcerange, 2, i), rows(mb.actuator_forcerange, 2, j));
  });
  const tendonB = names(built, OBJ_TENDON, mb.ntendon);
  names(orig, OBJ_TENDON, mo.ntendon).forEach((name, i) => {
    const j = tendonB.indexOf(name);
    if (j < 0) return void diffs.push(`tendon '${name}' missing`);
    near(`tendon '${name}' range`, rows(mo.tendon_range, 2, i), rows(mb.tendon_range, 2, j));
    near(`tendon '${name}' stiffness/damping`, [(mo.tendon_stiffness as Float64Array)[i], (mo.tendon_damping as Float64Array)[i]], [(mb.tendon_stiffness as Float64Array)[j], (mb.tendon_damping as Float64Array)[j]]);
  });
  // Geoms give masses (already compared per body) and contacts. World geoms may be left out of a
  // built-in model only when they cannot collide (contacts disabled, or contype = conaffinity = 0).
  const geomB = names(built, OBJ_GEOM, mb.ngeom);
  names(orig, OBJ_GEOM, mo.ngeom).forEach((name, i) => {
    const j = geomB.indexOf(name);
    const inWorld = (mo.geom_bodyid as Int32Array)[i] === 0;
    const collides = (mo.geom_contype as Int32Array)[i] !== 0 || (mo.geom_conaffinity as Int32Array)[i] !== 0;
    if (j < 0) {
      if (!(inWorld && (contactsOff || !collides))) diffs.push(`geom '${name}' missing`);
      return;
    }
    const ints = (m: typeof mo, k: number) => [(m.geom_type as Int32Array)[k], (m.geom_contype as Int32Array)[k], (m.geom_conaffinity as Int32Array)[k], (m.geom_condim as Int32Array)[k], (m.geom_priority as Int32Array)[k]];
    near(`geom '${name}' type/contype/conaffinity/condim/priority`, ints(mo, i), ints(mb, j));
    near(`geom '${name}' body`, [names(orig, OBJ_BODY, mo.nbody).indexOf(names(built, OBJ_BODY, mb.nbody)[(mb.geom_bodyid as Int32Array)[j]])], [(mo.geom_bodyid as Int32Array)[i]]);
    near(`geom '${name}' size`, rows(mo.geom_size, 3, i), rows(mb.geom_size, 3, j));
    near(`geom '${name}' pos`, rows(mo.geom_pos, 3, i), rows(mb.geom_pos, 3, j));
    near(`geom '${name}' quat`, rows(mo.geom_quat, 4, i), rows(mb.geom_quat, 4, j));
    if (!contactsOff) {
      near(`geom '${name}' friction`, rows(mo.geom_friction, 3, i), rows(mb.geom_friction, 3, j));
      near(`geom '${name}' solref`, rows(mo.geom_solref, 2, i), rows(mb.geom_solref, 2, j));
      near(`geom '${name}' solimp`, rows(mo.geom_solimp, 5, i), rows(mb.geom_solimp, 5, j));
      near(`geom '${name}' margin/gap/solmix`, [(mo.geom_margin as Float64Array)[i], (mo.geom_gap as Float64Array)[i], (mo.geom_solmix as Float64Array)[i]], [(mb.geom_margin as Float64Array)[j], (mb.geom_gap as Float64Array)[j], (mb.geom_solmix as Float64Array)[j]]);
    }
  });
  // Sites carry sensors (touch volumes), tendon paths and task targets: all of them must match.
  const siteB = names(built, OBJ_SITE, mb.nsite);
  names(orig, OBJ_SITE, mo.nsite).forEach((name, i) => {
    const j = siteB.indexOf(name);
    if (j < 0) return void diffs.push(`site '${name}' missing`);
    near(`site '${name}' type`, [(mo.site_type as Int32Array)[i]], [(mb.site_type as Int32Array)[j]]);
    near(`site '${name}' size`, rows(mo.site_size, 3, i), rows(mb.site_size, 3, j));
    near(`site '${name}' pos`, rows(mo.site_pos, 3, i), rows(mb.site_pos, 3, j));
    near(`site '${name}' quat`, rows(mo.site_quat, 4, i), rows(mb.site_quat, 4, j));
  });
  const sensorB = names(built, OBJ_SENSOR, mb.nsensor);
  names(orig, OBJ_SENSOR, mo.nsensor).forEach((name, i) => {
    const j = sensorB.indexOf(name);
    if (j < 0) return void diffs.push(`sensor '${name}' missing`);
    near(`sensor '${name}' type/dim/adr`, [(mo.sensor_type as Int32Array)[i], (mo.sensor_dim as Int32Array)[i], (mo.sensor_adr as Int32Array)[i]], [(mb.sensor_type as Int32Array)[j], (mb.sensor_dim as Int32Array)[j], (mb.sensor_adr as Int32Array)[j]]);
  });
  return diffs;
}

/** Default initial state: qpos0 plus noise (quaternions renormalised), small random velocities. */
function perturbedState(physics: Physics, rng: RngStream, scale: number): void {
  const qpos = physics.qpos;
  const qvel = physics.qvel;
  for (let i = 0; i < physics.nq; i++) qpos[i] += scale * rng.normal();
  for (let i = 0; i < physics.nv; i++) qvel[i] = scale * rng.normal();
  const type = physics.model.jnt_type as Int32Array;
  const adr = physics.model.jnt_qposadr as Int32Array;
  for (let j = 0; j < type.length; j++) {
    const q = type[j] === 0 ? adr[j] + 3 : type[j] === 1 ? adr[j] : -1; // free / ball quaternion
    if (q < 0) continue;
    const n = Math.hypot(qpos[q], qpos[q + 1], qpos[q + 2], qpos[q + 3]);
    for (let k = 0; k < 4; k++) qpos[q + k] /= n;
  }
}

/** A fixed, deterministic action sequence in [-1, 1]: mixed sinusoids per actuator. */
export function fixedAction(step: number, actuator: number): number {
  return Math.sin(0.07 * step * (actuator + 1) + actuator) * 0.8 + 0.2 * Math.cos(0.31 * step);
}

/** Runs both models from the same state under fixedAction; returns the max abs differences. */
export function trajectoryDifference(orig: Physics, built: Physics, row: ModelComparison): { qpos: number; qvel: number; sensordata: number; moved: number; contacts: number } {
  for (const p of [orig, built]) {
    p.reset();
    const init = row.initialState ?? ((ph: Physics, rng: RngStream) => perturbedState(ph, rng, row.perturbation ?? 0.05));
    init(p, new RngStream(1234));
    p.forward();
  }
  const start = Float64Array.from(orig.qpos);
  const out = { qpos: 0, qvel: 0, sensordata: 0, moved: 0, contacts: 0 };
  const maxDiff = (a: Float64Array, b: Float64Array) => {
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return Number.isNaN(m) ? Infinity : m;
  };
  for (let s = 0; s < (row.steps ?? 200); s++) {
    for (const p of [orig, built]) {
      const ctrl = p.ctrl;
      for (let a = 0; a < p.nu; a++) {
        const lo = p.ctrlRange[2 * a];
        const hi = p.ctrlRange[2 * a + 1];
        ctrl[a] = lo + ((fixedAction(s, a) + 1) / 2) * (hi - lo);
      }
      p.step(1);
    }
    out.qpos = Math.max(out.qpos, maxDiff(orig.qpos, built.qpos));
    out.qvel = Math.max(out.qvel, maxDiff(orig.qvel, built.qvel));
    out.sensordata = Math.max(out.sensordata, maxDiff(orig.sensordata, built.sensordata));
    out.contacts += orig.data.ncon;
  }
  out.moved = maxDiff(start, orig.qpos);
  return out;
}

/** Registers one vitest block per row (skipped, with the reason printed, without the originals). */
export function defineModelComparisons(table: readonly ModelComparison[]): void {
  if (!HAVE_DM_CONTROL) console.warn(`skipping dm_control model comparisons: ${DM_CONTROL_DIR} not found`);
  describe.skipIf(!HAVE_DM_CONTROL)('built-in models match dm_control', () => {
    for (const row of table) {
      it(`${row.name}: same structure and ${row.steps ?? 200}-step trajectory as ${row.original}`, async () => {
        const orig = await Physics.load(originalSource(row.original));
        const built = await Physics.load(row.builtin());
        try {
          expect(staticDifferences(orig, built)).toEqual([]);
          const d = trajectoryDifference(orig, built, row);
          const tol = row.tolerance ?? 1e-6;
          expect(d.moved, 'the comparison trajectory must actually move').toBeGreaterThan(1e-3);
          if (row.expectContacts) expect(d.contacts, 'the trajectory must make contacts').toBeGreaterThan(0);
          expect(d.qpos).toBeLessThanOrEqual(tol);
          expect(d.qvel).toBeLessThanOrEqual(tol);
          expect(d.sensordata).toBeLessThanOrEqual(tol);
        } finally {
          orig.dispose();
          built.dispose();
        }
      });
    }
  });
}
