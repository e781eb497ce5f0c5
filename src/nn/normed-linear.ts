// NormedLinear (TD-MPC2 order): lin = (x·Wᵀ + b) ⊙ dropoutMask; y = LayerNorm(lin)·gamma + beta;
// out = act(y), act ∈ {none, Mish, SimNorm(G)}. One fused engine kernel each way.
//   x [R,in], W [out,in], b [out], gamma [out], beta [out]; saved: lin [R,out], mean [R], rstd [R],
//   out [R,out], mask [R,out] (only when dropout > 0 and the pass is in training mode).
import type { Activation, Engine, F32 } from '../engine/engine.js';
import { dropoutMask } from './dropout.js';
import type { Init, ParamStore } from './params.js';

/** Activations of one forward pass of one NormedLinear layer (sized for maxRows). */
export interface NormedLinearState {
  lin: F32;
  mean: F32;
  rstd: F32;
  out: F32;
  /** null when the layer has no dropout; `masked` says whether the last forward used it. */
  mask: F32 | null;
  masked: boolean;
}

export class NormedLinear {
  readonly w: number;
  readonly b: number;
  readonly gamma: number;
  readonly beta: number;

  constructor(
    store: ParamStore, name: string, readonly inDim: number, readonly outDim: number,
    readonly act: Activation, readonly group: number, readonly dropout: number,
    init: { weight: Init; bias: Init },
  ) {
    this.w = store.add(`${name}.weight`, [outDim, inDim], init.weight);
    this.b = store.add(`${name}.bias`, [outDim], init.bias);
    this.gamma = store.add(`${name}.ln.weight`, [outDim], { kind: 'ones' });
    this.beta = store.add(`${name}.ln.bias`, [outDim], { kind: 'zeros' });
  }

  createState(store: ParamStore, maxRows: number): NormedLinearState {
    const n = maxRows * this.outDim;
    return {
      lin: store.alloc(n), mean: store.alloc(maxRows), rstd: store.alloc(maxRows), out: store.alloc(n),
      mask: this.dropout > 0 ? store.alloc(n) : null, masked: false,
    };
  }

  /** Counters one training forward of R rows consumes. */
  dropoutCount(R: number): number {
    return this.dropout > 0 ? R * this.outDim : 0;
  }

  /**
   * s.out [R,out] = layer(x). With rng (training mode) and dropout > 0 the mask is drawn from
   * counters [rng.counter, rng.counter + R·out).
   */
  forward(
    e: Engine, R: number, P: F32, shift: number, x: F32, xOff: number, s: NormedLinearState,
    rng: { seed: number; counter: number } | null,
  ): void {
    s.masked = rng !== null && s.mask !== null;
    if (s.masked) dropoutMask(e, R * this.outDim, this.dropout, rng!.seed, rng!.counter, s.mask!, 0);
    e.normedLinearForward(
      R, this.inDim, this.outDim, this.act, this.group, x, xOff,
      P, this.w + shift, P, this.b + shift, P, this.gamma + shift, P, this.beta + shift,
      s.masked ? s.mask : null, 0, s.lin, 0, s.mean, 0, s.rstd, 0, s.out, 0,
    );
  }

  /** Accumulates dW, db, dgamma, dbeta into G[o + gShift] and dx [R,in] (unless null). scratch [R,out]. */
  backward(
    e: Engine, R: number, P: F32, shift: number, G: F32, gShift: number, x: F32, xOff: number,
    s: NormedLinearState, dout: F32, doutOff: number, dx: F32 | null, dxOff: number, scratch: F32,
  ): void {
    e.normedLinearBackward(
      R, this.inDim, this.outDim, this.act, this.group, x, xOff, P, this.w + shift,
      P, this.gamma + shift, P, this.beta + shift, s.masked ? s.mask : null, 0,
      s.lin, 0, s.mean, 0, s.rstd, 0, s.out, 0, dout, doutOff,
      dx, dxOff, G, this.w + gShift, G, this.b + gShift, G, this.gamma + gShift, G, this.beta + gShift,
      scratch, 0,
    );
  }
}
