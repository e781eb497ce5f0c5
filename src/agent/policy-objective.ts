// Policy objectives (seed 000 section 5; seed 001 §2 'sac' mode), on DETACHED latents z_t, t = 0..H:
// only the policy's parameters receive gradients (the value/reward/dynamics passes here run with a
// gradient sink, like tdmpc2's `Q(..., detach=True)`).
//
//   max_q (TD-MPC2):  L = Σ_t w_t · mean_b ( entropy_coef · log π(a|z) - Q(z, a) / s ),  a ~ π(z)
//                     log π: TD-MPC2's log_pi, its Gaussian part multiplied by action_dim
//                     (policy-head.ts scaledLogProb), in every objective's entropy term.
//                     Q = the decoded Q(z, a) averaged over 2 random heads drawn per call (tdmpc2's
//                     Q(..., 'avg', detach=True); q_estimate = avg2, only those heads run) or over
//                     all heads (q_estimate = mean; the V form always: Q(z, a) = r(z, a) + γ ·
//                     mean_k V_k(next(z, a)), the one-step model lookahead, as seed 000 §4 reduces).
//                     s = tdmpc2 RunningScale of Q at t = 0 (floored per sample, EMA rate `tau`).
//   distill (BMPC):   L = Σ_t w_t · mean_b ( KL / s - α · entropy )
//                     KL = mean (or sum, kl_reduce) over action dims of KL(expert || π) (fix_kl_order)
//                     or KL(π || expert),
//                     expert std = max(stored std · expert_std_scale, expert_std_min),
//                     s = percentile scale of KL at t = 0 (bmpc-jax: EMA then floor at 1, rate kl_scale_tau),
//                     α = start_entropy_coeff + (end - start) · progress (linear schedule),
//                     entropy = -log π(a|z) of the reparameterized sample, Gaussian part times
//                     action_dim (the TD-MPC2 fork's `scaled_entropy`; for the bmpc
//                     parameterization it differs from the fork's only by a constant).
//                     Rows whose stored expert is NaN (an episode's final observation) are left out of
//                     the batch mean of their step.
//   residual (TD-M(PC)², tdmpc_square's actor_mode "residual"): max_q plus a prior term that keeps
//                     the policy near the planner distribution stored with each step,
//                     L = Σ_t w_t · mean_b ( α·log π(a|z) - Q/s - c · log N(a; μ_e, max(σ_e, min_std)) / s ),
//                     c = prior_coef · action_dim / 61, log N summed over action dims, the prior term
//                     on only while s > prior_scale_threshold (tdmpc_square divides it by the Q
//                     scale and gates it on that scale, as here).
// w_t = rhoWeights(rho, T, rho_normalize) (see losses.ts) over the steps each reference trains on:
// max_q all T = H+1 latents (tdmpc2's update_pi(zs)), distill and residual the first T = H
// (bmpc-jax, the TD-MPC2 fork's pi(z[:-1]), tdmpc_square's update_pi(zs[:-1])); w_H = 0 for those.
//
// Dims: B batch, H horizon, N1 = (H+1)·B rows (row = t·B + b), Z latent, A actions, NB bins, K heads.
import type { Engine, F32 } from '../engine/engine.js';
import type { EnsembleContext } from '../nn/ensemble.js';
import type { BackwardOptions, ForwardOptions } from '../nn/types.js';
import type { DynamicsContext } from '../model/dynamics.js';
import type { PolicyContext } from '../model/policy.js';
import type { WorldModel } from '../model/world-model.js';
import { HALF_LOG_2PI } from '../model/policy-head.js';
import { rhoWeights, twoHotDecodeBackward } from './losses.js';
import { PercentileScale } from './scales.js';
import { randomHeadPair } from './head-pair.js';
import { uniformAt } from '../engine/rng.js';

/** Detached passes: parameter gradients go to the store's sink (tdmpc2 `detach=True`). */
const SINK: BackwardOptions = { grads: null };

export interface PolicyObjectiveConfig {
  objective: 'max_q' | 'distill' | 'residual';
  rho: number;
  rhoNormalize: boolean;
  discount: number;
  /** max_q: entropy coefficient; RunningScale EMA rate (tdmpc2 uses cfg.tau). */
  entropyCoef: number;
  qScaleTau: number;
  /** max_q / residual with a Q model: average 2 random heads (tdmpc2) or all of them. */
  qEstimate: 'avg2' | 'mean';
  /** distill. */
  fixKlOrder: boolean;
  /** The KL over action dims: averaged (TD-MPC2 fork) or summed (bmpc-jax, MultivariateNormalDiag). */
  klReduce: 'mean' | 'sum';
  klScaleTau: number;
  expertStdScale: number;
  expertStdMin: number;
  startEntropyCoeff: number;
  endEntropyCoeff: number;
  /** residual: prior_coef, the Q-scale threshold that turns the prior term on, and its std floor. */
  priorCoef?: number;
  priorScaleThreshold?: number;
  priorMinStd?: number;
}

/** Contexts the objective runs its passes on (shared with the update; sized for >= N1 rows). */
export interface PolicyObjectiveContexts {
  pol: PolicyContext;
  /** max_q only. */
  val: EnsembleContext | null;
  /** max_q with a V model only (one-step lookahead). */
  rew: EnsembleContext | null;
  dyn: DynamicsContext | null;
}

export interface PolicyStats {
  loss: number;
  /** Mean entropy (-log π of the sample) over all rows. */
  entropy: number;
  /** The scale the loss divided by. */
  scale: number;
  /** distill: mean KL over valid rows (unscaled); max_q: 0. */
  kl: number;
  /** max_q: mean Q over rows; distill: 0. */
  q: number;
  /** Entropy coefficient used (scheduled for distill). */
  entropyCoef: number;
  /** residual: mean over trained rows of -log N(a; expert) (unscaled, 0 while the term is off). */
  prior: number;
}

export class PolicyObjective {
  readonly N1: number;
  readonly scale: PercentileScale;
  private readonly w: Float64Array; // [H+1]
  private readonly rowCoef: F32; // [N1] d loss / d (row objective)
  /** residual: whether the prior term is on this call (the Q scale above its threshold). */
  private readonly residual: boolean;
  /** max_q / residual on a Q model with q_estimate = avg2 and more than 2 heads: each call draws 2. */
  private readonly drawsHeads: boolean;
  private priorOn = false;
  /** residual: c = prior_coef · action_dim / 61 and the expert std floor (min_std), fixed per run. */
  private readonly priorWeight: number;
  private readonly priorFloor: number;
  // distill
  private readonly eLogStd: F32; // [N1, A] log(max(std·scale, min)), 0 in invalid rows
  private readonly eMean: F32; // [N1, A] expert mean, 0 in invalid rows
  private readonly klEl: F32; // [N1, A]
  private readonly dKlEl: F32; // [N1, A]
  private readonly klRow: Float64Array; // [N1]
  private readonly valid: Uint8Array; // [N1]
  // max_q
  private readonly qLogits: F32 | null; // [K, N1, NB] gradient w.r.t. value logits
  private readonly rLogitsGrad: F32 | null; // [Kr, N1, NB]
  private readonly decoded: F32; // [max(K, Kr), N1]
  private readonly q: Float64Array; // [N1]
  private readonly zNext: F32 | null; // [N1, Z] gradient through the lookahead
  private readonly da: F32; // [N1, A]
  private readonly dScaledLogProb: F32; // [N1] gradient w.r.t. the head's scaledLogProb
  private readonly fwd: ForwardOptions = { train: true, seed: 0, counter: 0 };
  private readonly grads: { dmean: F32 | null; dlogStd: F32 | null; daction: F32 | null; dscaledLogProb: F32 };
  readonly stats: PolicyStats = { loss: 0, entropy: 0, scale: 1, kl: 0, q: 0, entropyCoef: 0, prior: 0 };

  constructor(
    private readonly engine: Engine, private readonly wm: WorldModel, readonly B: number, readonly H: number,
    readonly cfg: PolicyObjectiveConfig, private readonly ctx: PolicyObjectiveContexts,
  ) {
    const { actionDim: A, numBins: NB, numQ: K, numRewardHeads: Kr, latentDim: Z, valueForm } = wm.cfg;
    const N1 = (this.N1 = (H + 1) * B);
    const s = wm.store;
    const w = new Float64Array(H + 1); // distill and residual: w_H stays 0
    rhoWeights(cfg.rho, cfg.objective === 'max_q' ? H + 1 : H, cfg.rhoNormalize, w);
    this.residual = cfg.objective === 'residual';
    this.drawsHeads = cfg.objective !== 'distill' && valueForm === 'Q' && cfg.qEstimate === 'avg2' && K > 2;
    this.priorWeight = ((cfg.priorCoef ?? 1) * wm.cfg.actionDim) / 61;
    this.priorFloor = cfg.priorMinStd ?? 0.05;
    this.w = w;
    this.rowCoef = s.alloc(N1);
    const maxQ = cfg.objective !== 'distill'; // residual is max_q plus a prior term
    this.scale = maxQ ? new PercentileScale(cfg.qScaleTau, 'sample', B) : new PercentileScale(cfg.klScaleTau, 'ema', B);
    this.eLogStd = s.alloc(maxQ ? 1 : N1 * A);
    this.eMean = s.alloc(maxQ ? 1 : N1 * A);
    this.klEl = s.alloc(maxQ ? 1 : N1 * A);
    this.dKlEl = s.alloc(maxQ ? 1 : N1 * A);
    this.klRow = new Float64Array(N1);
    this.valid = new Uint8Array(N1);
    this.qLogits = maxQ ? s.alloc(K * N1 * NB) : null;
    this.rLogitsGrad = maxQ && valueForm === 'V' ? s.alloc(Kr * N1 * NB) : null;
    this.decoded = s.alloc(Math.max(K, Kr) * N1);
    this.q = new Float64Array(N1);
    this.zNext = maxQ && valueForm === 'V' ? s.alloc(N1 * Z) : null;
    this.da = s.alloc(N1 * A);
    this.dScaledLogProb = s.alloc(N1);
    this.grads = maxQ
      ? { dmean: null, dlogStd: null, daction: this.da, dscaledLogProb: this.dScaledLogProb }
      : { dmean: this.da, dlogStd: this.dKlEl, daction: null, dscaledLogProb: this.dScaledLogProb };
    // distill reuses da / dKlEl as the dmean / dlogStd accumulators (see distill()).
    if (maxQ && (!ctx.val || (valueForm === 'V' && (!ctx.rew || !ctx.dyn)))) {
      throw new Error('PolicyObjective: max_q needs the value context (and reward/dynamics contexts for a V model)');
    }
  }

  /** Counters one call consumes: policy noise, plus value dropout and the head draw for max_q. */
  counters(): number {
    const A = this.wm.cfg.actionDim;
    return this.N1 * A + (this.cfg.objective !== 'distill' ? this.wm.valueNet.dropoutCount(this.N1) : 0) + (this.drawsHeads ? 2 : 0);
  }

  /**
   * Forward (and, if backward, the policy-parameter gradients) of the objective on detached latents
   * z [N1, Z] at zOff. expertMean/Std [N1, A] (distill). updateScale: advance the running scale
   * first (false in finite-difference evaluations, which must see a constant scale).
   */
  run(
    z: F32, zOff: number, expertMean: F32, expertStd: F32, progress: number,
    seed: number, counter: number, updateScale: boolean, backward: boolean,
  ): PolicyStats {
    const wm = this.wm;
    const N1 = this.N1;
    const A = wm.cfg.actionDim;
    const pol = this.ctx.pol;
    const eps = wm.policyNet.sampleEps(pol, N1, seed, counter);
    wm.policyNet.forward(pol, N1, z, zOff, eps, 0);
    let ent = 0;
    for (let r = 0; r < N1; r++) ent += pol.head.entropy[r];
    this.stats.entropy = ent / N1;
    if (this.cfg.objective !== 'distill') this.maxQ(z, zOff, seed, counter + N1 * A, updateScale, backward, expertMean, expertStd);
    else this.distill(expertMean, expertStd, progress, updateScale, backward);
    if (backward) wm.policyNet.backward(pol, this.grads, null, 0);
    return this.stats;
  }

  private distill(expertMean: F32, expertStd: F32, progress: number, updateScale: boolean, backward: boolean): void {
    const e = this.engine;
    const { B, H, N1, cfg } = this;
    const A = this.wm.cfg.actionDim;
    const head = this.ctx.pol.head;
    // Expert: floor-scaled std in log space; rows with a NaN expert are zeroed (and weighted 0).
    for (let r = 0; r < N1; r++) {
      let ok = 1;
      for (let j = 0; j < A; j++) {
        const m = expertMean[r * A + j];
        const sd = expertStd[r * A + j];
        if (!Number.isFinite(m) || !Number.isFinite(sd)) ok = 0;
      }
      this.valid[r] = ok;
      for (let j = 0; j < A; j++) {
        const i = r * A + j;
        this.eMean[i] = ok ? expertMean[i] : 0;
        this.eLogStd[i] = ok ? Math.log(Math.max(expertStd[i] * cfg.expertStdScale, cfg.expertStdMin)) : 0;
      }
    }
    const n = N1 * A;
    const fwdOrder = cfg.fixKlOrder;
    if (fwdOrder) e.gaussianKlForward(n, this.eMean, 0, this.eLogStd, 0, head.mean, 0, head.logStd, 0, this.klEl, 0);
    else e.gaussianKlForward(n, head.mean, 0, head.logStd, 0, this.eMean, 0, this.eLogStd, 0, this.klEl, 0);
    let klSum = 0;
    let nValid = 0;
    const perDim = cfg.klReduce === 'sum' ? 1 : 1 / A; // d klRow / d klEl
    for (let r = 0; r < N1; r++) {
      let s = 0;
      for (let j = 0; j < A; j++) s += this.klEl[r * A + j];
      this.klRow[r] = this.valid[r] ? s * perDim : NaN;
      if (this.valid[r] && r < H * B) { klSum += this.klRow[r]; nValid++; } // the trained steps t < H
    }
    this.stats.kl = nValid > 0 ? klSum / nValid : 0;
    // Scale from the t = 0 rows (NaN rows are skipped by the scale).
    const scale = updateScale ? this.scale.update(B, this.klRow, 0) : this.scale.value;
    const alpha = cfg.startEntropyCoeff + (cfg.endEntropyCoeff - cfg.startEntropyCoeff) * Math.min(1, Math.max(0, progress));
    this.stats.scale = scale;
    this.stats.entropyCoef = alpha;
    this.stats.q = 0;
    let loss = 0;
    for (let t = 0; t <= H; t++) {
      let cnt = 0;
      for (let b = 0; b < B; b++) cnt += this.valid[t * B + b];
      const c = cnt > 0 ? this.w[t] / cnt : 0;
      for (let b = 0; b < B; b++) {
        const r = t * B + b;
        const cr = this.valid[r] ? c : 0;
        this.rowCoef[r] = cr;
        if (cr !== 0) loss += cr * (this.klRow[r] / scale + alpha * head.scaledLogProb[r]); // - α · scaled entropy
      }
    }
    this.stats.loss = loss;
    if (!backward) return;
    // dKL per element = rowCoef · perDim / scale; the policy is the second (fix_kl_order) or first argument.
    for (let r = 0; r < N1; r++) {
      const g = (this.rowCoef[r] * perDim) / scale;
      for (let j = 0; j < A; j++) this.klEl[r * A + j] = g; // reuse klEl as dout
      this.dScaledLogProb[r] = alpha * this.rowCoef[r];
    }
    e.fill(n, 0, this.da, 0);
    e.fill(n, 0, this.dKlEl, 0);
    if (fwdOrder) {
      e.gaussianKlBackward(n, this.eMean, 0, this.eLogStd, 0, head.mean, 0, head.logStd, 0, this.klEl, 0, null, 0, null, 0, this.da, 0, this.dKlEl, 0);
    } else {
      e.gaussianKlBackward(n, head.mean, 0, head.logStd, 0, this.eMean, 0, this.eLogStd, 0, this.klEl, 0, this.da, 0, this.dKlEl, 0, null, 0, null, 0);
    }
  }

  private maxQ(
    z: F32, zOff: number, seed: number, counter: number, updateScale: boolean, backward: boolean, expertMean: F32, expertStd: F32,
  ): void {
    const e = this.engine;
    const wm = this.wm;
    const { B, H, N1, cfg } = this;
    const { numQ: K, numRewardHeads: Kr, numBins: NB, vmin, vmax, valueForm } = wm.cfg;
    const head = this.ctx.pol.head;
    const val = this.ctx.val!;
    const a = head.action;
    const isV = valueForm === 'V';
    this.fwd.seed = seed;
    this.fwd.counter = counter;
    // Q(z, a): decoded and averaged over heads; V form: r(z, a) + γ V(next(z, a)).
    if (isV) {
      wm.rewardNet.forward(this.ctx.rew!, N1, z, zOff, a, 0, null, 0);
      e.twoHotDecode(Kr * N1, NB, vmin, vmax, this.ctx.rew!.out, this.ctx.rew!.outOff, this.decoded, 0);
      for (let r = 0; r < N1; r++) {
        let s = 0;
        for (let k = 0; k < Kr; k++) s += this.decoded[k * N1 + r];
        this.q[r] = s / Kr;
      }
      wm.dynamicsNet.forward(this.ctx.dyn!, N1, z, zOff, a, 0, null, 0, 0);
      wm.valueNet.forward(val, N1, this.ctx.dyn!.out, this.ctx.dyn!.outOff, null, 0, null, 0, this.fwd);
    } else {
      this.q.fill(0);
      // Dropout uses counters [counter, counter + dropoutCount); the head draw the next two.
      const c = counter + wm.valueNet.dropoutCount(N1);
      const heads = this.drawsHeads ? randomHeadPair(K, uniformAt(seed, c), uniformAt(seed, c + 1)) : null;
      wm.valueNet.forward(val, N1, z, zOff, a, 0, null, 0, this.fwd, heads);
    }
    const Kq = val.active.length; // heads averaged
    const g = isV ? cfg.discount : 1;
    e.twoHotDecode(Kq * N1, NB, vmin, vmax, val.out, val.outOff, this.decoded, 0);
    let qSum = 0;
    for (let r = 0; r < N1; r++) {
      let s = 0;
      for (let k = 0; k < Kq; k++) s += this.decoded[k * N1 + r];
      this.q[r] += (g * s) / Kq;
      qSum += this.q[r];
    }
    this.stats.q = qSum / N1;
    const scale = updateScale ? this.scale.update(B, this.q, 0) : this.scale.value;
    const alpha = cfg.entropyCoef;
    this.stats.scale = scale;
    this.stats.entropyCoef = alpha;
    this.stats.kl = 0;
    let loss = 0;
    for (let t = 0; t <= H; t++) {
      const c = this.w[t] / B;
      for (let b = 0; b < B; b++) {
        const r = t * B + b;
        this.rowCoef[r] = c;
        loss += c * (alpha * head.scaledLogProb[r] - this.q[r] / scale);
      }
    }
    const prior = this.residual ? this.priorTerm(expertMean, expertStd, scale) : 0;
    this.stats.loss = loss + prior;
    if (!backward) return;
    // dL/dQ_r = -rowCoef/scale; the value/reward/dynamics passes are detached (gradient sink).
    for (let r = 0; r < N1; r++) {
      this.q[r] = -this.rowCoef[r] / scale; // reuse q as dQ
      this.dScaledLogProb[r] = alpha * this.rowCoef[r];
    }
    const qL = this.qLogits!;
    e.fill(Kq * N1 * NB, 0, qL, 0);
    for (let k = 0; k < Kq; k++) {
      twoHotDecodeBackward(N1, NB, vmin, vmax, val.out, val.outOff + k * N1 * NB, this.q, 0, g / Kq, qL, k * N1 * NB);
    }
    e.fill(N1 * wm.cfg.actionDim, 0, this.da, 0);
    if (isV) {
      const dzn = this.zNext!;
      e.fill(N1 * wm.cfg.latentDim, 0, dzn, 0);
      wm.valueNet.backward(val, qL, 0, dzn, 0, null, 0, SINK);
      wm.dynamicsNet.backward(this.ctx.dyn!, dzn, 0, null, 0, this.da, 0, SINK);
      const rL = this.rLogitsGrad!;
      e.fill(Kr * N1 * NB, 0, rL, 0);
      for (let k = 0; k < Kr; k++) {
        twoHotDecodeBackward(N1, NB, vmin, vmax, this.ctx.rew!.out, this.ctx.rew!.outOff + k * N1 * NB, this.q, 0, 1 / Kr, rL, k * N1 * NB);
      }
      wm.rewardNet.backward(this.ctx.rew!, rL, 0, null, 0, this.da, 0, SINK);
    } else {
      wm.valueNet.backward(val, qL, 0, null, 0, this.da, 0, SINK);
    }
    if (this.residual) this.priorBackward(expertMean, expertStd, scale);
  }

  /**
   * residual: Σ_r rowCoef_r · c · (-log N(a_r; μ_r, σ_r)) / s over rows with a finite expert, or 0
   * while s <= prior_scale_threshold. σ = max(stored std, prior_min_std). Sets stats.prior.
   */
  private priorTerm(expertMean: F32, expertStd: F32, scale: number): number {
    const { N1, cfg } = this;
    const A = this.wm.cfg.actionDim;
    const a = this.ctx.pol.head.action;
    this.priorOn = scale > (cfg.priorScaleThreshold ?? 2);
    const c = this.priorWeight;
    const floor = this.priorFloor;
    let term = 0;
    let sum = 0;
    let count = 0;
    for (let r = 0; r < N1; r++) {
      let nll = 0;
      for (let j = 0; j < A; j++) {
        const i = r * A + j;
        const sd = Math.max(expertStd[i], floor);
        const d = (a[i] - expertMean[i]) / sd;
        nll += 0.5 * d * d + Math.log(sd) + HALF_LOG_2PI;
      }
      this.valid[r] = Number.isFinite(nll) ? 1 : 0;
      if (!this.valid[r] || this.rowCoef[r] === 0) continue;
      sum += nll;
      count++;
      if (this.priorOn) term += (this.rowCoef[r] * c * nll) / scale;
    }
    this.stats.prior = this.priorOn && count > 0 ? sum / count : 0;
    return term;
  }

  /** residual: adds d(prior term)/d a = rowCoef · c · (a - μ) / (σ² · s) into da. */
  private priorBackward(expertMean: F32, expertStd: F32, scale: number): void {
    if (!this.priorOn) return;
    const { N1 } = this;
    const A = this.wm.cfg.actionDim;
    const a = this.ctx.pol.head.action;
    const c = this.priorWeight;
    const floor = this.priorFloor;
    for (let r = 0; r < N1; r++) {
      if (!this.valid[r] || this.rowCoef[r] === 0) continue;
      const k = (this.rowCoef[r] * c) / scale;
      for (let j = 0; j < A; j++) {
        const i = r * A + j;
        const sd = Math.max(expertStd[i], floor);
        this.da[i] += (k * (a[i] - expertMean[i])) / (sd * sd);
      }
    }
  }
}
