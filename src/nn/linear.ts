// Linear layer y = x·Wᵀ + b (PyTorch nn.Linear layout). Holds offsets into a ParamStore, no memory.
//   x [R,in], W [out,in], b [out], y [R,out]
import type { Engine, F32 } from '../engine/engine.js';
import type { Init, ParamStore } from './params.js';

export class Linear {
  /** Absolute offsets of W [out,in] and b [out] in the store. */
  readonly w: number;
  readonly b: number;

  constructor(
    store: ParamStore, name: string, readonly inDim: number, readonly outDim: number,
    init: { weight: Init; bias: Init },
  ) {
    this.w = store.add(`${name}.weight`, [outDim, inDim], init.weight);
    this.b = store.add(`${name}.bias`, [outDim], init.bias);
  }

  /** y [R,out] = x·Wᵀ + b, parameters read at P[offset + shift]. */
  forward(e: Engine, R: number, P: F32, shift: number, x: F32, xOff: number, y: F32, yOff: number): void {
    e.gemm(false, true, R, this.outDim, this.inDim, x, xOff, P, this.w + shift, y, yOff, P, this.b + shift, false);
  }

  /** dW += dyᵀ·x, db += Σ_r dy, dx [R,in] += dy·W (skipped when dx is null). */
  backward(
    e: Engine, R: number, P: F32, shift: number, G: F32, gShift: number,
    x: F32, xOff: number, dy: F32, dyOff: number, dx: F32 | null, dxOff: number,
  ): void {
    e.gemm(true, false, this.outDim, this.inDim, R, dy, dyOff, x, xOff, G, this.w + gShift, null, 0, true);
    e.sumRows(R, this.outDim, dy, dyOff, G, this.b + gShift, true);
    if (dx) e.gemm(false, false, R, this.inDim, this.outDim, dy, dyOff, P, this.w + shift, dx, dxOff, null, 0, true);
  }
}
