// Ensemble of K identically shaped MLP heads on a shared input (tdmpc2's vmapped `Ensemble`), used
// for the reward and value/Q heads. Head k's parameters are one contiguous block, so the blocks are
// stacked [K, headParams] in the store (head k at head0 + k·stride). Heads run one after another:
// each layer is a fused NormedLinear kernel with its own LayerNorm gamma/beta, which a single
// batched kernel cannot express; per head the rows are large enough to keep both threads busy.
//
// Input: x [R,in1], or x ⊕ x2 [R,in1+in2] for two-input heads (z ⊕ a), concatenated once per pass.
// Output: out [K,R,outDim] (head-major), i.e. head k at outOff + k·R·outDim. A pass may run a subset
// of the heads (tdmpc2's Q(..., 'avg' | 'min') reads 2 random heads of the ensemble; computing only
// those gives the same values for less work): slot i of out then holds head heads[i], and the
// backward of that pass runs the same heads.
import type { Engine, F32 } from '../engine/engine.js';
import { Mlp, type MlpContext, type MlpSpec } from './mlp.js';
import type { ParamStore } from './params.js';
import { checkRows, type BackwardOptions, type ForwardOptions } from './types.js';
import { ShapeError } from '../errors.js';

export interface EnsembleContext {
  readonly maxRows: number;
  R: number;
  heads: MlpContext[];
  /** Concatenated input [maxRows, in1+in2] and its gradient (two-input ensembles only). */
  xin: F32 | null;
  dxin: F32 | null;
  /** Own output [K, R, outDim] at offset 0, used when forward gets out = null. */
  ownOut: F32;
  /** Where the last forward left its output [K',R,outDim], and the heads it ran (slot i: head active[i]). */
  out: F32;
  outOff: number;
  active: readonly number[];
}

export class Ensemble {
  readonly heads: Mlp[] = [];
  readonly inDim: number;
  readonly outDim: number;
  /** Floats per head (head k's block starts at heads[0]'s first tensor + k·headStride). */
  readonly headStride: number;
  /** Every head, 0..K-1 (a pass with heads = null). */
  private readonly all: readonly number[];

  constructor(
    readonly engine: Engine, readonly store: ParamStore, readonly name: string, readonly K: number,
    readonly in1: number, readonly in2: number, spec: Omit<MlpSpec, 'inDim'>,
  ) {
    this.inDim = in1 + in2;
    const start = store.size;
    for (let k = 0; k < K; k++) this.heads.push(new Mlp(engine, store, `${name}.${k}`, { ...spec, inDim: this.inDim }));
    this.outDim = spec.outDim;
    this.headStride = (store.size - start) / K;
    this.all = Array.from({ length: K }, (_, k) => k);
  }

  dropoutCount(R: number): number {
    return this.K * this.heads[0].dropoutCount(R);
  }

  createContext(maxRows: number): EnsembleContext {
    const s = this.store;
    const heads: MlpContext[] = [];
    for (let k = 0; k < this.K; k++) heads.push(this.heads[k].createContext(maxRows, { share: heads[0], ownOut: false }));
    const ownOut = s.alloc(this.K * maxRows * this.outDim);
    const two = this.in2 > 0;
    return {
      maxRows, R: 0, heads,
      xin: two ? s.alloc(maxRows * this.inDim) : null, dxin: two ? s.alloc(maxRows * this.inDim) : null,
      ownOut, out: ownOut, outOff: 0, active: this.all,
    };
  }

  /**
   * out [K',R,outDim] slot i = head_{heads[i]}(x ⊕ x2) (x2 must be null iff in2 = 0); heads null runs
   * every head (slot k = head k). With dropout in training mode head k uses counters
   * opts.counter + k·heads[0].dropoutCount(R) onwards, whichever heads run.
   */
  forward(
    ctx: EnsembleContext, R: number, x: F32, xOff: number, x2: F32 | null, x2Off: number,
    out: F32 | null, outOff: number, opts: ForwardOptions = {}, heads: readonly number[] | null = null,
  ): void {
    checkRows(this.name, R, ctx.maxRows);
    const active = heads ?? this.all;
    if (heads) {
      for (const k of heads) {
        if (!Number.isInteger(k) || k < 0 || k >= this.K) throw new ShapeError(`${this.name}: head ${k} outside [0, ${this.K})`);
      }
    }
    if ((x2 !== null) !== (this.in2 > 0)) {
      throw new ShapeError(`${this.name}: takes ${this.in2 > 0 ? `a second input [R,${this.in2}]` : 'no second input'} but got ${x2 === null ? 'null' : 'one'}`);
    }
    ctx.R = R;
    let inp = x;
    let inpOff = xOff;
    if (x2) {
      this.engine.concatColumns(R, this.in1, this.in2, x, xOff, x2, x2Off, ctx.xin!, 0);
      inp = ctx.xin!;
      inpOff = 0;
    }
    const y = out ?? ctx.ownOut;
    const yOff = out ? outOff : 0;
    const per = this.heads[0].dropoutCount(R);
    for (let i = 0; i < active.length; i++) {
      const k = active[i];
      const hOpts = opts.train === true && per > 0 ? { ...opts, counter: (opts.counter ?? 0) + k * per } : opts;
      this.heads[k].forward(ctx.heads[k], R, inp, inpOff, y, yOff + i * R * this.outDim, hOpts);
    }
    ctx.out = y;
    ctx.outOff = yOff;
    ctx.active = active;
  }

  /**
   * Given dout [K',R,outDim] (the last forward's layout): accumulates the parameter gradients of the
   * heads that forward ran, dx [R,in1] and dx2 [R,in2] (either may be null; both null skips the
   * input gradients).
   */
  backward(
    ctx: EnsembleContext, dout: F32, doutOff: number, dx: F32 | null, dxOff: number,
    dx2: F32 | null, dx2Off: number, opts: BackwardOptions = {},
  ): void {
    const R = ctx.R;
    const two = this.in2 > 0;
    const wantInput = dx !== null || (two && dx2 !== null);
    let dIn: F32 | null = null;
    let dInOff = 0;
    if (wantInput) {
      if (two) {
        dIn = ctx.dxin!;
        this.engine.fill(R * this.inDim, 0, dIn, 0);
      } else {
        dIn = dx;
        dInOff = dxOff;
      }
    }
    const active = ctx.active;
    for (let i = 0; i < active.length; i++) {
      const k = active[i];
      this.heads[k].backward(ctx.heads[k], dout, doutOff + i * R * this.outDim, dIn, dInOff, opts);
    }
    if (two && wantInput) this.engine.splitColumnsBackward(R, this.in1, this.in2, dIn!, 0, dx, dxOff, dx2, dx2Off);
  }
}
