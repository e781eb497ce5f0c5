// Physics: one MuJoCo model + data pair on the official WebAssembly bindings (@mujoco/mujoco,
// single-threaded build). Tasks and wrappers read and write the simulation through the cached
// Float64Array views below, so the per-step path allocates nothing.
//
// Two facts about the bindings shape this file:
//  * Every `data.qpos`-style getter builds a fresh typed-array view (~0.2 µs) and every embind
//    property (`model.opt.timestep`) costs ~1 µs, so views and constants are taken once and cached.
//  * All views point into the module's WebAssembly memory. When that memory grows (any allocation
//    in the same module instance, e.g. creating another environment) the old ArrayBuffer is
//    detached and every view reads as length 0. Each accessor therefore checks the buffer it was
//    built on and rebuilds the views after a growth (one comparison on the fast path).
//
// Stepping follows dm_control's "legacy step" (dm_control/mujoco/engine.py, Physics.step): after
// the last mj_step, mj_step1 runs once more so that positions, velocities, xpos/xmat, site
// positions and position/velocity sensors all describe the *new* state when the task reads its
// observation and reward. The trajectory is unchanged (mj_step = mj_step1 + mj_step2).
import loadMujoco from '@mujoco/mujoco';
import type { MainModule, MjData, MjModel } from '@mujoco/mujoco';
import { EnvError } from '../errors.js';

/** An MJCF model: the main XML plus named files it `<include>`s (e.g. 'common/materials.xml'). */
export interface ModelSource {
  /** The main MJCF document. */
  xml: string;
  /** Files reachable from the main document by `<include file="...">`, keyed by that path. */
  includes?: Readonly<Record<string, string>>;
  /** A file name for error messages and the virtual file system (default 'model.xml'). */
  name?: string;
}

/** MuJoCo object kinds that can be looked up by name (values of mjtObj). */
export type MjObjectKind = 'body' | 'joint' | 'geom' | 'site' | 'actuator' | 'sensor' | 'tendon';

// One module instance per thread: module-level state is per worker thread in Node.
let modulePromise: Promise<MainModule> | undefined;
let moduleLoaded: MainModule | undefined;

/** Loads (once per thread) and returns the MuJoCo WebAssembly module. */
export function loadMujocoModule(): Promise<MainModule> {
  if (!modulePromise) {
    modulePromise = loadMujoco().then((mj) => {
      moduleLoaded = mj;
      return mj;
    });
  }
  return modulePromise;
}

/** The module if it has already been loaded on this thread (see loadMujocoModule). */
export function mujocoModule(): MainModule {
  if (!moduleLoaded) throw new EnvError('MuJoCo is not loaded yet on this thread: await loadMujocoModule() (or Physics.load) first');
  return moduleLoaded;
}

let vfsCounter = 0;

/** Compiles an MJCF model from strings through MuJoCo's virtual file system. */
export function compileModel(mj: MainModule, source: ModelSource | string): MjModel {
  const src: ModelSource = typeof source === 'string' ? { xml: source } : source;
  // A unique directory per compile keeps relative include paths resolvable and avoids clashes.
  const dir = `m${vfsCounter++}`;
  const mainName = src.name ?? 'model.xml';
  const vfs = new mj.MjVFS();
  const encoder = new TextEncoder();
  try {
    vfs.addBuffer(`${dir}/${mainName}`, encoder.encode(src.xml));
    for (const [path, text] of Object.entries(src.includes ?? {})) vfs.addBuffer(`${dir}/${path}`, encoder.encode(text));
    return mj.MjModel.from_xml_path(`${dir}/${mainName}`, vfs);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new EnvError(`cannot load MJCF model '${mainName}': ${message.replace(/^(Error: )?/, '').trim()}`);
  } finally {
    vfs.delete();
  }
}

const OBJECT_KIND: Record<MjObjectKind, string> = {
  body: 'mjOBJ_BODY',
  joint: 'mjOBJ_JOINT',
  geom: 'mjOBJ_GEOM',
  site: 'mjOBJ_SITE',
  actuator: 'mjOBJ_ACTUATOR',
  sensor: 'mjOBJ_SENSOR',
  tendon: 'mjOBJ_TENDON',
};

/** Cached views into mjData; rebuilt when the WebAssembly memory grows. */
interface DataViews {
  heap: ArrayBufferLike;
  qpos: Float64Array; // [nq]
  qvel: Float64Array; // [nv]
  ctrl: Float64Array; // [nu]
  act: Float64Array; // [na]
  sensordata: Float64Array; // [nsensordata]
  xpos: Float64Array; // [nbody, 3]
  xmat: Float64Array; // [nbody, 9] row-major rotation matrices
  xipos: Float64Array; // [nbody, 3] body centres of mass
  siteXpos: Float64Array; // [nsite, 3]
  siteXmat: Float64Array; // [nsite, 9]
  geomXpos: Float64Array; // [ngeom, 3]
  subtreeCom: Float64Array; // [nbody, 3]
  subtreeLinvel: Float64Array; // [nbody, 3] (valid once mj_subtreeVel has run)
  cvel: Float64Array; // [nbody, 6]
}

export class Physics {
  readonly nq: number;
  readonly nv: number;
  readonly nu: number;
  readonly na: number;
  readonly nbody: number;
  readonly nsite: number;
  readonly ngeom: number;
  readonly nsensordata: number;
  /** Physics timestep in seconds (model.opt.timestep at load time). */
  readonly timestep: number;
  /** model.opt.integrator (0 Euler, 1 RK4, 2 implicit, 3 implicitfast). */
  readonly integrator: number;
  /** Actuator control ranges [nu, 2] and whether each is limited (copied at load time). */
  readonly ctrlRange: Float64Array;
  readonly ctrlLimited: Uint8Array;
  private views: DataViews;
  private disposed = false;
  private readonly isRk4: boolean;

  /** Compiles `source` and allocates its data. Loads MuJoCo on first use in this thread. */
  static async load(source: ModelSource | string): Promise<Physics> {
    const mj = await loadMujocoModule();
    return new Physics(mj, compileModel(mj, source));
  }

  /** Same as load() once the module is loaded (synchronous). */
  static fromSource(mj: MainModule, source: ModelSource | string): Physics {
    return new Physics(mj, compileModel(mj, source));
  }

  /** Takes ownership of `model` (disposed with this object). */
  constructor(
    readonly mj: MainModule,
    readonly model: MjModel,
  ) {
    this.data = new mj.MjData(model);
    this.nq = model.nq;
    this.nv = model.nv;
    this.nu = model.nu;
    this.na = model.na;
    this.nbody = model.nbody;
    this.nsite = model.nsite;
    this.ngeom = model.ngeom;
    this.nsensordata = model.nsensordata;
    const opt = model.opt;
    this.timestep = opt.timestep;
    this.integrator = opt.integrator;
    opt.delete();
    this.isRk4 = this.integrator === mj.mjtIntegrator.mjINT_RK4.value;
    this.ctrlRange = Float64Array.from(model.actuator_ctrlrange as Float64Array);
    // mjtByte arrays have no typed-array view in these bindings; read them per actuator.
    this.ctrlLimited = new Uint8Array(this.nu);
    for (let i = 0; i < this.nu; i++) {
      const actuator = model.actuator(i);
      this.ctrlLimited[i] = actuator.ctrllimited ? 1 : 0;
      actuator.delete();
    }
    this.views = this.buildViews();
    this.forward();
  }

  readonly data: MjData;

  private buildViews(): DataViews {
    const d = this.data;
    const qpos = d.qpos as Float64Array;
    return {
      heap: qpos.buffer,
      qpos,
      qvel: d.qvel,
      ctrl: d.ctrl,
      act: d.act,
      sensordata: d.sensordata,
      xpos: d.xpos,
      xmat: d.xmat,
      xipos: d.xipos,
      siteXpos: d.site_xpos,
      siteXmat: d.site_xmat,
      geomXpos: d.geom_xpos,
      subtreeCom: d.subtree_com,
      subtreeLinvel: d.subtree_linvel,
      cvel: d.cvel,
    };
  }

  /** The views, rebuilt first if the WebAssembly memory grew since they were taken. */
  private live(): DataViews {
    if (this.views.heap.byteLength === 0 || this.disposed) {
      if (this.disposed) throw new EnvError('Physics used after dispose()');
      this.views = this.buildViews();
    }
    return this.views;
  }

  get qpos(): Float64Array { return this.live().qpos; }
  get qvel(): Float64Array { return this.live().qvel; }
  get ctrl(): Float64Array { return this.live().ctrl; }
  get act(): Float64Array { return this.live().act; }
  get sensordata(): Float64Array { return this.live().sensordata; }
  /** Body frame positions [nbody, 3]. */
  get xpos(): Float64Array { return this.live().xpos; }
  /** Body frame orientations [nbody, 9], row-major: element (r, c) of body b at 9b + 3r + c. */
  get xmat(): Float64Array { return this.live().xmat; }
  /** Body centres of mass [nbody, 3]. */
  get xipos(): Float64Array { return this.live().xipos; }
  get siteXpos(): Float64Array { return this.live().siteXpos; }
  get siteXmat(): Float64Array { return this.live().siteXmat; }
  get geomXpos(): Float64Array { return this.live().geomXpos; }
  get subtreeCom(): Float64Array { return this.live().subtreeCom; }
  /** Subtree linear velocities [nbody, 3]; call computeSubtreeVelocity() first. */
  get subtreeLinvel(): Float64Array { return this.live().subtreeLinvel; }
  /** Body spatial velocities [nbody, 6] (rotation first, then translation, in the com frame). */
  get cvel(): Float64Array { return this.live().cvel; }

  get time(): number { return this.data.time; }
  set time(t: number) { this.data.time = t; }

  /**
   * MuJoCo's invalid-state warnings since the last reset (mjWARN_BADQPOS / BADQVEL / BADQACC,
   * dm_control's `check_invalid_state`): when one fires, mj_step has reset the simulation to
   * qpos0 in the middle of the episode. Names of those with a count, e.g. ['BADQACC'] (slow
   * path: read only after a divergence was detected).
   */
  invalidStateWarnings(): string[] {
    const kinds = this.mj.mjtWarning;
    const vec = this.data.warning; // a view into mjData (not owned: deleting it frees mjData's vector)
    const out: string[] = [];
    for (const name of ['BADQPOS', 'BADQVEL', 'BADQACC'] as const) {
      const stat = vec.get(kinds[`mjWARN_${name}`].value);
      if (!stat) continue;
      if (stat.number > 0) out.push(name);
      stat.delete();
    }
    return out;
  }

  /** Id of a named object; throws EnvError naming the kind and name when absent. */
  id(kind: MjObjectKind, name: string): number {
    const objType = (this.mj.mjtObj as unknown as Record<string, { value: number }>)[OBJECT_KIND[kind]].value;
    const id = this.mj.mj_name2id(this.model, objType, name);
    if (id < 0) throw new EnvError(`model has no ${kind} named '${name}'`);
    return id;
  }

  /** Address of a named joint's first qpos entry. */
  jointQposAdr(name: string): number {
    return (this.model.jnt_qposadr as Int32Array)[this.id('joint', name)];
  }

  /** Address of a named joint's first qvel entry. */
  jointDofAdr(name: string): number {
    return (this.model.jnt_dofadr as Int32Array)[this.id('joint', name)];
  }

  /** Offset of a named sensor in sensordata and its dimension. */
  sensor(name: string): { adr: number; dim: number } {
    const i = this.id('sensor', name);
    return { adr: (this.model.sensor_adr as Int32Array)[i], dim: (this.model.sensor_dim as Int32Array)[i] };
  }

  /**
   * Advances nstep physics steps (dm_control legacy step: derived quantities are up to date with the
   * new qpos/qvel afterwards). Call forward() after writing qpos/qvel by hand.
   */
  step(nstep = 1): void {
    if (this.disposed) throw new EnvError('Physics used after dispose()');
    const mj = this.mj;
    const m = this.model;
    const d = this.data;
    if (this.isRk4) {
      for (let i = 0; i < nstep; i++) mj.mj_step(m, d);
    } else {
      // mj_step1 for the current state already ran (forward() or the previous step), so finish
      // this step with mj_step2 and run the remaining ones whole.
      mj.mj_step2(m, d);
      for (let i = 1; i < nstep; i++) mj.mj_step(m, d);
    }
    mj.mj_step1(m, d);
  }

  /** Plain mj_step without the trailing mj_step1 (benchmarks and raw comparisons). */
  rawStep(nstep = 1): void {
    for (let i = 0; i < nstep; i++) this.mj.mj_step(this.model, this.data);
  }

  /** mj_forward: recomputes every derived quantity from qpos, qvel, ctrl and time. */
  forward(): void {
    this.mj.mj_forward(this.model, this.data);
  }

  /** mj_subtreeVel: fills subtreeLinvel (not computed by mj_step unless a sensor needs it). */
  computeSubtreeVelocity(): void {
    this.mj.mj_subtreeVel(this.model, this.data);
  }

  /** mj_resetData (qpos0, zero velocities, controls and time), then forward(). */
  reset(): void {
    this.mj.mj_resetData(this.model, this.data);
    this.forward();
  }

  /** Frees the MuJoCo data and model now (WebAssembly memory is not garbage-collected). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.data.delete();
    this.model.delete();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }
}
