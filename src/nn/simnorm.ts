// SimNorm (TD-MPC2 §3): the latent is split into groups of G (simnorm_dim, 8) and each group is
// softmaxed, so z lives on a product of simplices. Used standalone where the latent is a sum of
// networks (dynamics + frozen prior); otherwise it is fused into the NormedLinear kernel (ACT_SIMNORM).
//   x [R,D], y [R,D], D % G == 0
import type { Engine, F32 } from '../engine/engine.js';
import { ConfigError } from '../errors.js';

export class SimNorm {
  constructor(readonly dim: number, readonly group: number) {
    if (!Number.isInteger(group) || group < 1 || dim % group !== 0) {
      throw new ConfigError(`SimNorm: latent dim ${dim} must be a multiple of simnormDim ${group}`);
    }
  }

  forward(e: Engine, R: number, x: F32, xOff: number, y: F32, yOff: number): void {
    e.simnormForward(R, this.dim, this.group, x, xOff, y, yOff);
  }

  /** dx [R,D] += SimNorm backward, given the forward output y and dy. */
  backward(e: Engine, R: number, y: F32, yOff: number, dy: F32, dyOff: number, dx: F32, dxOff: number): void {
    e.simnormBackward(R, this.dim, this.group, y, yOff, dy, dyOff, dx, dxOff);
  }
}
