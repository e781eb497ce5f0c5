// MLP = NormedLinear(Mish) hidden layers, then a plain Linear or a NormedLinear output layer
// (tdmpc2's `layers.mlp`). The calling convention below is shared by every network in src/nn and
// src/model:
//
//   const ctx = net.createContext(maxRows);           // activations of ONE forward/backward pass
//   net.forward(ctx, R, x, xOff, out, outOff, opts);   // out [R,outDim] (null: result at ctx.out/outOff)
//   net.backward(ctx, dout, doutOff, dx, dxOff, opts); // += into the store's grads and into dx [R,in]
//
// - Contexts are preallocated; calls allocate nothing. Keep one context per pass that must survive
//   until its backward (e.g. one per horizon step of a dynamics unroll); inference can reuse one.
// - The forward records (x, xOff) by reference: x must stay unchanged until backward has run.
// - Backward ACCUMULATES into parameter grads and into dx (null skips the input gradient); the caller
//   zeroes grads once per step (ParamStore.zeroGrad) and zeroes dx if it wants a plain gradient.
// - opts (ForwardOptions): train + seed/counter for dropout; params/shift to run with another copy of
//   the parameters (EMA target). The backward uses the parameters its forward used.
import { ACT_MISH, type Activation, type Engine, type F32 } from '../engine/engine.js';
import { Linear } from './linear.js';
import { NormedLinear, type DropoutPosition, type NormedLinearState } from './normed-linear.js';
import type { Init, ParamStore } from './params.js';
import { checkRows, dropoutRng, type BackwardOptions, type ForwardOptions, type ParamRef } from './types.js';

/**
 * Weight inits, biases 0 unless 'torch'. The two truncated normals differ in where they cut:
 * - 'trunc_normal': tdmpc2, PyTorch's trunc_normal_(w, std=0.02) with its default a=-2, b=2, which
 *   are absolute: 100 std away, so the weights are N(0, 0.02²) in effect (std 0.02);
 * - 'trunc_normal_jax': bmpc-jax, jax.nn.initializers.truncated_normal(0.02), which cuts at ±2 std
 *   of the untruncated normal without rescaling (std 0.0176, |w| < 0.04);
 * - 'torch': PyTorch's nn.Linear default, U(±1/sqrt(fan_in)) for weights and biases.
 */
export type InitScheme = 'trunc_normal' | 'trunc_normal_jax' | 'torch';

/** Initializers of a Linear/NormedLinear weight and bias; `zero` zero-inits both (reward/value outputs). */
export function linearInit(scheme: InitScheme, fanIn: number, zero = false): { weight: Init; bias: Init } {
  if (zero) return { weight: { kind: 'zeros' }, bias: { kind: 'zeros' } };
  if (scheme === 'torch') {
    const bound = 1 / Math.sqrt(fanIn);
    return { weight: { kind: 'uniform', bound }, bias: { kind: 'uniform', bound } };
  }
  const bound = scheme === 'trunc_normal_jax' ? 2 * 0.02 : 2;
  return { weight: { kind: 'truncNormal', std: 0.02, bound }, bias: { kind: 'zeros' } };
}

export interface MlpSpec {
  inDim: number;
  /** Widths of the NormedLinear(Mish) hidden layers. */
  hidden: number[];
  outDim: number;
  /** Output layer: 'linear' = plain Linear; otherwise NormedLinear with this activation. */
  outAct: 'linear' | Activation;
  /** SimNorm group size when outAct is ACT_SIMNORM. */
  group?: number;
  /** Dropout probability per hidden layer (missing entries: 0). */
  dropout?: number[];
  /** Where hidden layers apply dropout (default before_norm, TD-MPC2's place). */
  dropoutPosition?: DropoutPosition;
  init: InitScheme;
  /** Zero-init the output layer (tdmpc2 does this for the reward and Q/V heads). */
  zeroOutput?: boolean;
}

export interface MlpContext {
  readonly maxRows: number;
  R: number;
  /** Input recorded by forward (by reference). */
  x: F32;
  xOff: number;
  ref: ParamRef;
  /** One state per NormedLinear layer (null for a Linear output layer). */
  states: (NormedLinearState | null)[];
  /** Where the last forward left its output [R,outDim]. */
  out: F32;
  outOff: number;
  /** Own output buffer [maxRows,outDim] for a Linear output layer called with out = null. */
  ownOut: F32 | null;
  /** Backward work: ping-pong input gradients and the NormedLinear dlin scratch. */
  dA: F32;
  dB: F32;
  scratch: F32;
}

export class Mlp {
  readonly layers: (NormedLinear | Linear)[] = [];
  readonly inDim: number;
  readonly outDim: number;

  constructor(readonly engine: Engine, readonly store: ParamStore, readonly name: string, spec: MlpSpec) {
    this.inDim = spec.inDim;
    this.outDim = spec.outDim;
    const dims = [spec.inDim, ...spec.hidden];
    for (let i = 0; i < spec.hidden.length; i++) {
      const p = spec.dropout?.[i] ?? 0;
      this.layers.push(new NormedLinear(store, `${name}.${i}`, dims[i], dims[i + 1], ACT_MISH, 1, p, linearInit(spec.init, dims[i]),
        spec.dropoutPosition));
    }
    const last = dims[dims.length - 1];
    const init = linearInit(spec.init, last, spec.zeroOutput === true);
    const lname = `${name}.${spec.hidden.length}`;
    if (spec.outAct === 'linear') this.layers.push(new Linear(store, lname, last, spec.outDim, init));
    else this.layers.push(new NormedLinear(store, lname, last, spec.outDim, spec.outAct, spec.group ?? 1, 0, init));
  }

  /** Counters one training forward of R rows consumes for dropout masks. */
  dropoutCount(R: number): number {
    let n = 0;
    for (const l of this.layers) if (l instanceof NormedLinear) n += l.dropoutCount(R);
    return n;
  }

  /**
   * Activations for one pass of up to maxRows rows. `share` reuses another context's backward work
   * buffers (safe when their backward passes never interleave, e.g. the heads of an ensemble);
   * `ownOut: false` skips the own output buffer (the caller always passes `out`).
   */
  createContext(maxRows: number, options: { share?: MlpContext; ownOut?: boolean } = {}): MlpContext {
    const s = this.store;
    const states = this.layers.map((l) => (l instanceof NormedLinear ? l.createState(s, maxRows) : null));
    let widest = 1;
    for (const l of this.layers) widest = Math.max(widest, l.outDim);
    let hiddenWidest = 1;
    for (let i = 0; i + 1 < this.layers.length; i++) hiddenWidest = Math.max(hiddenWidest, this.layers[i].outDim);
    const lastState = states[states.length - 1];
    const ownOut = lastState === null && options.ownOut !== false ? s.alloc(maxRows * this.outDim) : null;
    const sh = options.share;
    if (sh && (sh.maxRows < maxRows || sh.dA.length < maxRows * hiddenWidest || sh.scratch.length < maxRows * widest)) {
      throw new Error(`${this.name}: shared context is too small`);
    }
    return {
      maxRows, R: 0, x: s.params, xOff: 0, ref: { P: s.params, shift: 0 },
      states, out: lastState?.out ?? ownOut ?? s.params, outOff: 0, ownOut,
      dA: sh?.dA ?? s.alloc(maxRows * hiddenWidest), dB: sh?.dB ?? s.alloc(maxRows * hiddenWidest),
      scratch: sh?.scratch ?? s.alloc(maxRows * widest),
    };
  }

  /** out [R,outDim] = mlp(x [R,inDim]); out may be null (result stays at ctx.out/ctx.outOff). */
  forward(ctx: MlpContext, R: number, x: F32, xOff: number, out: F32 | null, outOff: number, opts: ForwardOptions = {}): void {
    checkRows(this.name, R, ctx.maxRows);
    const e = this.engine;
    const P = opts.params ?? this.store.params;
    const shift = opts.params ? (opts.shift ?? 0) : 0;
    ctx.R = R;
    ctx.x = x;
    ctx.xOff = xOff;
    ctx.ref.P = P;
    ctx.ref.shift = shift;
    let rng: { seed: number; counter: number } | null = null;
    if (opts.train === true && this.dropoutCount(1) > 0) rng = { ...dropoutRng(this.name, opts) };
    let inp = x;
    let inpOff = xOff;
    const L = this.layers.length;
    for (let i = 0; i < L; i++) {
      const layer = this.layers[i];
      if (layer instanceof NormedLinear) {
        const st = ctx.states[i]!;
        layer.forward(e, R, P, shift, inp, inpOff, st, rng);
        if (rng) rng.counter += layer.dropoutCount(R);
        inp = st.out;
        inpOff = 0;
      } else {
        if (!out && !ctx.ownOut) throw new Error(`${this.name}: context was created with ownOut: false; pass out`);
        const y = out ?? ctx.ownOut!;
        const yOff = out ? outOff : 0;
        layer.forward(e, R, P, shift, inp, inpOff, y, yOff);
        ctx.out = y;
        ctx.outOff = yOff;
        return;
      }
    }
    // NormedLinear output layer: its output must stay in the context for backward; copy it out.
    const last = ctx.states[L - 1]!;
    ctx.out = last.out;
    ctx.outOff = 0;
    if (out) e.copy(R * this.outDim, last.out, 0, out, outOff);
  }

  /** Backward of the last forward on ctx given dout [R,outDim]; dx [R,inDim] += (null skips). */
  backward(ctx: MlpContext, dout: F32, doutOff: number, dx: F32 | null, dxOff: number, opts: BackwardOptions = {}): void {
    const e = this.engine;
    const R = ctx.R;
    const { P, shift } = ctx.ref;
    const G = opts.grads === null ? this.store.sink : (opts.grads ?? this.store.grads);
    const gShift = opts.grads ? (opts.gradShift ?? 0) : 0;
    let d = dout;
    let dOff = doutOff;
    let ping = true;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const layer = this.layers[i];
      const inp = i === 0 ? ctx.x : ctx.states[i - 1]!.out;
      const inpOff = i === 0 ? ctx.xOff : 0;
      let dIn: F32 | null;
      let dInOff: number;
      if (i === 0) {
        dIn = dx;
        dInOff = dxOff;
      } else {
        dIn = ping ? ctx.dA : ctx.dB;
        dInOff = 0;
        ping = !ping;
        e.fill(R * layer.inDim, 0, dIn, 0);
      }
      if (layer instanceof NormedLinear) {
        layer.backward(e, R, P, shift, G, gShift, inp, inpOff, ctx.states[i]!, d, dOff, dIn, dInOff, ctx.scratch);
      } else {
        layer.backward(e, R, P, shift, G, gShift, inp, inpOff, d, dOff, dIn, dInOff);
      }
      if (dIn) {
        d = dIn;
        dOff = dInOff;
      }
    }
  }
}
