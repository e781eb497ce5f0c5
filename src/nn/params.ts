// Flat parameter store (llm.c `fill_in_parameter_sizes` + `malloc_and_point_parameters`).
//
// Every parameter of a model lives in ONE flat array `params`, every gradient in `grads` with the
// same layout, so Adam, clipping, EMA targets and snapshots are flat loops over (offset, length).
// Modules never own memory: while they are constructed they `add` tensors to the size table and keep
// the returned absolute offsets; `finalize` then allocates (or adopts caller-supplied) arrays.
//
//   params / grads  [size]      = [ segment 0 | segment 1 | ... | frozen segments ]
//   segment         {name, offset, length, frozen}: one network (encoder, dynamics, ...) -> one
//                   adamStep call with its own learning rate. Frozen segments (random prior nets)
//                   sit after all trainable ones, so `trainableLength` is a prefix: clipping and the
//                   optimizer run over [0, trainableLength) and never touch them. Backward passes
//                   may still accumulate into the frozen part of `grads`; nobody reads it.
//
// dtype 'float64' makes every array (params, grads, activations from `alloc`) a Float64Array cast as
// Float32Array: the JS reference engine then computes in float64, which finite-difference checks need.
import { ConfigError } from '../errors.js';
import type { Engine, F32 } from '../engine/engine.js';

export type DType = 'float32' | 'float64';

/** How a tensor is initialized (deterministic in (seed, offset), see ParamStore.initialize). */
export type Init =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'uniform'; bound: number } // U(-bound, bound): PyTorch nn.Linear uses 1/sqrt(fan_in)
  // N(0, std²) with values outside [-bound, bound] redrawn; the bound is absolute (PyTorch's
  // trunc_normal_ a/b), so JAX's cut at ±2 std is bound = 2·std (see nn/mlp.ts linearInit).
  | { kind: 'truncNormal'; std: number; bound: number };

export interface TensorSpec {
  name: string;
  /** Absolute offset in params/grads, in floats. */
  offset: number;
  shape: number[];
  size: number;
  init: Init;
}

export interface Segment {
  name: string;
  offset: number;
  length: number;
  /** Excluded from gradients' use, clipping and the optimizer (frozen random priors). */
  frozen: boolean;
}

/** Allocates n floats of the given dtype (float64 arrays are cast: kernels accept both). */
export function allocFloats(n: number, dtype: DType): F32 {
  return dtype === 'float64' ? (new Float64Array(n) as unknown as F32) : new Float32Array(n);
}

function isFloat64(a: F32): boolean {
  return (a as unknown) instanceof Float64Array;
}

export interface StoreArrays {
  /** Caller-supplied parameter array (e.g. SharedArrayBuffer-backed); length must equal `size`. */
  params?: F32;
  grads?: F32;
}

export class ParamStore {
  readonly dtype: DType;
  readonly tensors: TensorSpec[] = [];
  readonly segments: Segment[] = [];
  /** Total floats in params (and grads). */
  size = 0;
  /** Floats in the trainable prefix [0, trainableLength). */
  trainableLength = 0;
  private openSegment: { name: string; offset: number; frozen: boolean } | null = null;
  private finalized = false;
  private _params: F32 | null = null;
  private _grads: F32 | null = null;
  private _sink: F32 | null = null;

  constructor(options: { dtype?: DType } = {}) {
    const dtype = options.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') {
      throw new ConfigError(`ParamStore dtype must be 'float32' or 'float64', got '${String(dtype)}'`);
    }
    this.dtype = dtype;
  }

  // ---------------------------------------------------------------- size table (construction)
  beginSegment(name: string, frozen = false): void {
    if (this.finalized) throw new Error(`ParamStore: cannot add segment '${name}' after finalize()`);
    if (this.openSegment) throw new Error(`ParamStore: segment '${this.openSegment.name}' is still open`);
    if (this.segments.some((s) => s.name === name)) throw new Error(`ParamStore: duplicate segment '${name}'`);
    const last = this.segments[this.segments.length - 1];
    if (!frozen && last?.frozen) {
      throw new Error(`ParamStore: trainable segment '${name}' after frozen '${last.name}'; frozen segments go last`);
    }
    this.openSegment = { name, offset: this.size, frozen };
  }

  endSegment(): Segment {
    const open = this.openSegment;
    if (!open) throw new Error('ParamStore: endSegment() without beginSegment()');
    const seg: Segment = { name: open.name, offset: open.offset, length: this.size - open.offset, frozen: open.frozen };
    this.segments.push(seg);
    if (!seg.frozen) this.trainableLength = this.size;
    this.openSegment = null;
    return seg;
  }

  /** Appends a tensor to the size table and returns its absolute offset. */
  add(name: string, shape: number[], init: Init): number {
    if (this.finalized) throw new Error(`ParamStore: cannot add '${name}' after finalize()`);
    if (!this.openSegment) throw new Error(`ParamStore: add('${name}') outside a segment`);
    let size = 1;
    for (const d of shape) {
      if (!Number.isInteger(d) || d <= 0) throw new ConfigError(`parameter '${name}' has a bad shape [${shape.join(', ')}]`);
      size *= d;
    }
    const offset = this.size;
    this.tensors.push({ name, offset, shape: shape.slice(), size, init });
    this.size += size;
    return offset;
  }

  segment(name: string): Segment {
    const s = this.segments.find((x) => x.name === name);
    if (!s) throw new Error(`ParamStore: no segment '${name}' (have ${this.segments.map((x) => x.name).join(', ')})`);
    return s;
  }

  tensor(name: string): TensorSpec {
    const t = this.tensors.find((x) => x.name === name);
    if (!t) throw new Error(`ParamStore: no tensor '${name}'`);
    return t;
  }

  // ---------------------------------------------------------------- memory
  /** Allocates params/grads (or adopts the caller's arrays, which must match size and dtype). */
  finalize(arrays: StoreArrays = {}): void {
    if (this.finalized) throw new Error('ParamStore: finalize() called twice');
    if (this.openSegment) throw new Error(`ParamStore: segment '${this.openSegment.name}' is still open`);
    this._params = this.adopt('params', arrays.params);
    this._grads = this.adopt('grads', arrays.grads);
    this.finalized = true;
  }

  private adopt(what: string, a: F32 | undefined): F32 {
    if (a === undefined) return allocFloats(this.size, this.dtype);
    if (a.length !== this.size) {
      throw new ConfigError(`ParamStore: supplied ${what} has ${a.length} floats but the layout needs ${this.size}`);
    }
    if (isFloat64(a) !== (this.dtype === 'float64')) {
      throw new ConfigError(`ParamStore: supplied ${what} is not a ${this.dtype} array`);
    }
    return a;
  }

  get params(): F32 {
    if (!this._params) throw new Error('ParamStore: finalize() first');
    return this._params;
  }

  get grads(): F32 {
    if (!this._grads) throw new Error('ParamStore: finalize() first');
    return this._grads;
  }

  /**
   * Gradient sink with the params layout, for "detached" backward passes (gradients flow to the
   * inputs but not into `grads`, like tdmpc2's `detach=True` Q). Its contents are garbage.
   */
  get sink(): F32 {
    if (!this._sink) this._sink = allocFloats(this.size, this.dtype);
    return this._sink;
  }

  /** n floats of this store's dtype (activation buffers). */
  alloc(n: number): F32 {
    return allocFloats(n, this.dtype);
  }

  /** A zeroed array with one segment's layout (e.g. the EMA target copy of the value ensemble). */
  allocSegment(name: string): F32 {
    return allocFloats(this.segment(name).length, this.dtype);
  }

  zeroGrad(): void {
    this.grads.fill(0);
  }

  // ---------------------------------------------------------------- initialization
  /**
   * Fills params deterministically from (seed, tensor offset) with the counter RNG: tensor t uses
   * counters [t.offset, t.offset + t.size); a truncated-normal redraw j of element i uses counter
   * t.offset + i + j * size. So the values depend only on the seed and the layout.
   */
  initialize(engine: Engine, seed: number): void {
    const p = this.params;
    for (const t of this.tensors) {
      const init = t.init;
      switch (init.kind) {
        case 'zeros':
          engine.fill(t.size, 0, p, t.offset);
          break;
        case 'ones':
          engine.fill(t.size, 1, p, t.offset);
          break;
        case 'uniform':
          engine.randomUniform(t.size, seed, t.offset, -init.bound, init.bound, p, t.offset);
          break;
        case 'truncNormal': {
          engine.randomNormal(t.size, seed, t.offset, 0, init.std, p, t.offset);
          const lim = init.bound;
          const one = allocFloats(1, this.dtype);
          for (let i = 0; i < t.size; i++) {
            let j = 1;
            while (Math.abs(p[t.offset + i]) > lim) {
              engine.randomNormal(1, seed, t.offset + i + j * this.size, 0, init.std, one, 0);
              p[t.offset + i] = one[0];
              j++;
            }
          }
          break;
        }
      }
    }
  }
}
