// NormedLinear, with dropout where each reference puts it:
//   TD-MPC2 (PyTorch):  lin = (x·Wᵀ + b) ⊙ mask; out = act(LayerNorm(lin)·gamma + beta)
//   bmpc-jax (Flax):    lin = x·Wᵀ + b;          out = act(LayerNorm(lin)·gamma + beta) ⊙ mask
// act ∈ {none, Mish, SimNorm(G)}. One fused engine kernel each way (plus engine.mul for a mask
// after the activation).
//   x [R,in], W [out,in], b [out], gamma [out], beta [out]; saved: lin [R,out], mean [R], rstd [R],
//   out [R,out], mask [R,out] (only when dropout > 0 and the pass is in training mode); after the
//   activation also act [R,out] (the output before the mask) and dact [R,out] (backward work).
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
  /** Dropout after the activation only: the output before the mask, and dout ⊙ mask. */
  act: F32 | null;
  dact: F32 | null;
}

/** Where dropout acts: on the linear output before LayerNorm (TD-MPC2) or on the output (bmpc-jax). */
export type DropoutPosition = 'before_norm' | 'after_act';

export class NormedLinear {
  readonly w: number;
  readonly b: number;
  readonly gamma: number;
  readonly beta: number;

  constructor(
    store: ParamStore, name: string, readonly inDim: number, readonly outDim: number,
    readonly act: Activation, readonly group: number, readonly dropout: number,
    init: { weight: Init; bias: Init }, readonly dropoutPosition: DropoutPosition = 'before_norm',
  ) {
    this.w = store.add(`${name}.weight`, [outDim, inDim], init.weight);
    this.b = store.add(`${name}.bias`, [outDim], init.bias);
    this.gamma = store.add(`${name}.ln.weight`, [outDim], { kind: 'ones' });
    this.beta = store.add(`${name}.ln.bias`, [outDim], { kind: 'zeros' });
  }

  createState(store: ParamStore, maxRows: number): NormedLinearState {
    const n = maxRows * this.outDim;
    const after = this.dropout > 0 && this.dropoutPosition === 'after_act';
    return {
      lin: store.alloc(n), mean: store.alloc(maxRows), rstd: store.alloc(maxRows), out: store.alloc(n),
      mask: this.dropout > 0 ? store.alloc(n) : null, masked: false,
      act: after ? store.alloc(n) : null, dact: after ? store.alloc(n) : null,
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
    const after = s.masked && s.act !== null;
    e.normedLinearForward(
      R, this.inDim, this.outDim, this.act, this.group, x, xOff,
      P, this.w + shift, P, this.b + shift, P, this.gamma + shift, P, this.beta + shift,
      s.masked && !after ? s.mask : null, 0, s.lin, 0, s.mean, 0, s.rstd, 0, after ? s.act! : s.out, 0,
    );
    if (after) e.mul(R * this.outDim, s.act!, 0, s.mask!, 0, s.out, 0);
  }

  /** Accumulates dW, db, dgamma, dbeta into G[o + gShift] and dx [R,in] (unless null). scratch [R,out]. */
  backward(
    e: Engine, R: number, P: F32, shift: number, G: F32, gShift: number, x: F32, xOff: number,
    s: NormedLinearState, dout: F32, doutOff: number, dx: F32 | null, dxOff: number, scratch: F32,
  ): void {
    // Mask after the activation: the fused backward sees the unmasked output and dout ⊙ mask.
    const after = s.masked && s.act !== null;
    if (after) e.mul(R * this.outDim, dout, doutOff, s.mask!, 0, s.dact!, 0);
    e.normedLinearBackward(
      R, this.inDim, this.outDim, this.act, this.group, x, xOff, P, this.w + shift,
      P, this.gamma + shift, P, this.beta + shift, s.masked && !after ? s.mask : null, 0,
      s.lin, 0, s.mean, 0, s.rstd, 0, after ? s.act! : s.out, 0, after ? s.dact! : dout, after ? 0 : doutOff,
      dx, dxOff, G, this.w + gShift, G, this.b + gShift, G, this.gamma + gShift, G, this.beta + gShift,
      scratch, 0,
    );
  }
}
