// Policy head math: raw network output [R, 2A] -> Gaussian policy in the two parameterizations,
// forward and backward, on the host (R·A elements; tiny next to the MLP).
//
// raw = [mu_raw | ls_raw] per row (tdmpc2 `chunk(2, -1)`). Both forms:
//   log_std = logStdMin + 0.5·(logStdMax - logStdMin)·(tanh(ls_raw) + 1)      (tdmpc2 math.log_std)
//   std     = exp(log_std);  eps ~ N(0, 1) given by the caller (0 = deterministic)
//   mean    = tanh(mu_raw)   the action-space mean: tdmpc2's info["mean"] after `squash`, BMPC's mean
// 'tdmpc2' (Gaussian over pre-tanh u, squashed):
//   u = mu_raw + eps·std;  action = tanh(u)
//   log_prob = Σ_j (-eps²/2 - log_std - log(2π)/2) - Σ_j log(relu(1 - action²) + 1e-6)   (math.squash)
// 'bmpc' (Gaussian in action space, clamped; seed 000 §5):
//   u = mean + eps·std;  action = clamp(u, -1, 1)
//   log_prob = Σ_j (-eps²/2 - log_std - log(2π)/2)                                       (no Jacobian)
// entropy = -log_prob in both (tdmpc2's single-sample `entropy`).
// scaled_log_prob = A·(Σ_j (-eps²/2 - log_std) - log(2π)/2) - Σ_j log(relu(1 - action²) + 1e-6)
//   (squash term 'tdmpc2' only): TD-MPC2's `log_pi`, whose math.gaussian_logprob(eps, log_std, size=A)
//   multiplies the Gaussian part by the action dimension (and subtracts log(2π)/2 once, before
//   the product), so the entropy bonus of the policy losses grows with A. The losses use this one.
//
// Backward takes gradients of a loss w.r.t. any of (mean, logStd, action, logProb, entropy,
// scaledLogProb) and
// accumulates the gradient w.r.t. raw. eps is a constant (reparameterization), so gradients flow
// through action and log_prob into mu_raw and ls_raw. The clamp passes gradient for -1 <= u <= 1
// (PyTorch clamp). 1 - action² is evaluated as sech²(u) (see sech2), so relu(·) is a no-op here.
import type { F32 } from '../engine/engine.js';
import type { ParamStore } from '../nn/params.js';
import type { PolicyForm } from './config.js';

/** log(2π)/2, the Gaussian log-density's constant. */
export const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * 1 - tanh²(u) computed as sech²(u): the same value, but exact in the tails where 1 - a·a cancels
 * (in float32, as in tdmpc2, it is 0 for |u| > 9; that noise also wrecked finite-difference checks).
 */
function sech2(u: number): number {
  const c = Math.cosh(u);
  return 1 / (c * c);
}

/** Outputs and saved values of one policy-head forward (sized for maxRows). */
export interface PolicyHeadContext {
  readonly maxRows: number;
  R: number;
  /** [R,A] each. */
  mean: F32;
  logStd: F32;
  action: F32;
  /** [R] each. */
  logProb: F32;
  entropy: F32;
  scaledLogProb: F32;
  /** Saved for backward [R,A]: eps (0 when none), u (pre-tanh / pre-clamp), tanh(ls_raw). */
  eps: F32;
  u: F32;
  tls: F32;
}

/** Gradients of the loss w.r.t. the head's outputs, all at offset 0; missing = 0. */
export interface PolicyHeadGrads {
  dmean?: F32 | null; // [R,A]
  dlogStd?: F32 | null; // [R,A]
  daction?: F32 | null; // [R,A]
  dlogProb?: F32 | null; // [R]
  dentropy?: F32 | null; // [R]
  dscaledLogProb?: F32 | null; // [R]
}

export class PolicyHead {
  constructor(
    readonly form: PolicyForm, readonly actionDim: number, readonly logStdMin: number, readonly logStdMax: number,
  ) {}

  createContext(store: ParamStore, maxRows: number): PolicyHeadContext {
    const n = maxRows * this.actionDim;
    return {
      maxRows, R: 0, mean: store.alloc(n), logStd: store.alloc(n), action: store.alloc(n),
      logProb: store.alloc(maxRows), entropy: store.alloc(maxRows), scaledLogProb: store.alloc(maxRows), eps: store.alloc(n), u: store.alloc(n), tls: store.alloc(n),
    };
  }

  /** raw [R,2A] at rawOff, eps [R,A] at epsOff or null (deterministic). Outputs land in ctx. */
  forward(ctx: PolicyHeadContext, R: number, raw: F32, rawOff: number, eps: F32 | null, epsOff: number): void {
    const A = this.actionDim;
    const half = 0.5 * (this.logStdMax - this.logStdMin);
    const squash = this.form === 'tdmpc2';
    ctx.R = R;
    for (let r = 0; r < R; r++) {
      let gauss = 0; // Σ_j (-eps²/2 - log_std)
      let squashTerm = 0; // -Σ_j log(relu(1 - action²) + 1e-6)
      const rowRaw = rawOff + r * 2 * A;
      for (let j = 0; j < A; j++) {
        const i = r * A + j;
        const muRaw = raw[rowRaw + j];
        const t = Math.tanh(raw[rowRaw + A + j]);
        const ls = this.logStdMin + half * (t + 1);
        const std = Math.exp(ls);
        const e = eps ? eps[epsOff + i] : 0;
        const mean = Math.tanh(muRaw);
        let u: number;
        let a: number;
        gauss += -0.5 * e * e - ls;
        if (squash) {
          u = muRaw + e * std;
          a = Math.tanh(u);
          squashTerm -= Math.log(sech2(u) + 1e-6);
        } else {
          u = mean + e * std;
          a = Math.min(1, Math.max(-1, u));
        }
        ctx.mean[i] = mean;
        ctx.logStd[i] = ls;
        ctx.action[i] = a;
        ctx.eps[i] = e;
        ctx.u[i] = u;
        ctx.tls[i] = t;
      }
      const logProb = gauss - A * HALF_LOG_2PI + squashTerm;
      ctx.logProb[r] = logProb;
      ctx.entropy[r] = -logProb;
      ctx.scaledLogProb[r] = A * (gauss - HALF_LOG_2PI) + squashTerm;
    }
  }

  /** draw [R,2A] at drawOff += d loss / d raw for the last forward on ctx. */
  backward(ctx: PolicyHeadContext, g: PolicyHeadGrads, draw: F32, drawOff: number): void {
    const A = this.actionDim;
    const R = ctx.R;
    const half = 0.5 * (this.logStdMax - this.logStdMin);
    const squash = this.form === 'tdmpc2';
    const { dmean, dlogStd, daction, dlogProb, dentropy, dscaledLogProb } = g;
    for (let r = 0; r < R; r++) {
      const dlp = (dlogProb ? dlogProb[r] : 0) - (dentropy ? dentropy[r] : 0);
      const dslp = dscaledLogProb ? dscaledLogProb[r] : 0;
      const dGauss = dlp + A * dslp; // d loss / d Σ_j (-eps²/2 - log_std)
      const dSquash = dlp + dslp; // d loss / d squash term
      const rowD = drawOff + r * 2 * A;
      for (let j = 0; j < A; j++) {
        const i = r * A + j;
        const mean = ctx.mean[i];
        const a = ctx.action[i];
        const e = ctx.eps[i];
        const std = Math.exp(ctx.logStd[i]);
        const da = daction ? daction[i] : 0;
        let dMuRaw: number;
        let du: number;
        if (squash) {
          const oma = sech2(ctx.u[i]);
          du = da * oma + (dSquash * 2 * a * oma) / (oma + 1e-6);
          dMuRaw = du + (dmean ? dmean[i] : 0) * (1 - mean * mean);
        } else {
          const u = ctx.u[i];
          du = u >= -1 && u <= 1 ? da : 0;
          dMuRaw = ((dmean ? dmean[i] : 0) + du) * (1 - mean * mean);
        }
        const dls = (dlogStd ? dlogStd[i] : 0) + du * e * std - dGauss;
        const t = ctx.tls[i];
        draw[rowD + j] += dMuRaw;
        draw[rowD + A + j] += dls * half * (1 - t * t);
      }
    }
  }
}
