// 1-step TD targets, imagined with the policy (seed 000 section 4). No gradients (stop-gradient).
//
//   V form (BMPC):   y_i = mean_s [ r(z'_i, a_is) + γ (1 - d_i) · mean_k V̄_k(next(z'_i, a_is)) ]
//                    z'_i = enc(o_t) (imagine_initial_source = encoder) or the rollout latent z_t.
//   Q form (TD-MPC2): y_i = r_i + γ (1 - d_i) · mean_s min(Q̄_j, Q̄_l)(z''_i, a_is)   (q_target = min2)
//                    y_i = r_i + γ (1 - d_i) · mean_s mean_k Q̄_k(z''_i, a_is)        (q_target = mean)
//                    z''_i = enc(o_{t+1}) (encoder) or the rollout latent z_{t+1}; r_i the stored reward;
//                    j ≠ l two target heads drawn per update (tdmpc2: Q(..., return_type='min',
//                    target=True) takes randperm(num_q)[:2] once per call), the clipped double-Q
//                    pessimism against overestimation; only those two heads are computed.
// a_is ~ π(·|z) (online policy, s < S = num_rollouts samples per state), V̄/Q̄ the EMA target
// ensemble, d_i the stored termination flag of step t (tdmpc2: `discount * (1 - terminated)`).
// The V form bootstraps from the mean over ALL target heads (seed 000 §4 "global bootstrap", as
// bmpc-jax); q_target = mean gives the Q form the same.
// Choice: target passes run without dropout (inference mode), so a target is a function of the
// parameters and the policy noise only.
//
// Rows: i = t·B + b over N = H·B states; sampled rows are [S, N] (row s·N + i).
import type { Engine, F32 } from '../engine/engine.js';
import type { EnsembleContext } from '../nn/ensemble.js';
import type { DynamicsContext } from '../model/dynamics.js';
import type { PolicyContext } from '../model/policy.js';
import type { WorldModel } from '../model/world-model.js';
import { tdTarget } from './losses.js';
import { uniformAt } from '../engine/rng.js';
import { randomHeadPair } from './head-pair.js';

export interface TdContexts {
  /** All sized for >= S·N rows; dyn only needed by V models. */
  pol: PolicyContext;
  rew: EnsembleContext;
  val: EnsembleContext;
  dyn: DynamicsContext | null;
}

export class TdTargets {
  readonly N: number;
  /** The targets y [N] of the last compute(). */
  readonly y: F32;
  private readonly starts: F32 | null; // [S·N, Z] replicated starts (S > 1 only)
  private readonly decoded: F32; // [max(K, Kr), S·N]
  private readonly r: F32; // [S·N]
  private readonly v: F32; // [S·N]
  private readonly yAll: F32; // [S·N]

  constructor(
    private readonly engine: Engine, private readonly wm: WorldModel, readonly B: number, readonly H: number,
    readonly S: number, readonly discount: number, readonly qTarget: 'min2' | 'mean', private readonly ctx: TdContexts,
  ) {
    const { latentDim: Z, numQ: K, numRewardHeads: Kr, valueForm } = wm.cfg;
    if (valueForm === 'V' && !ctx.dyn) throw new Error('TdTargets: a V model needs a dynamics context');
    const N = (this.N = H * B);
    const s = wm.store;
    this.y = s.alloc(N);
    this.starts = S > 1 ? s.alloc(S * N * Z) : null;
    this.decoded = s.alloc(Math.max(K, Kr) * S * N);
    this.r = s.alloc(S * N);
    this.v = s.alloc(S * N);
    this.yAll = s.alloc(S * N);
  }

  /** Counters one compute() consumes: policy noise, then two for the min2 head draw. */
  counters(): number {
    return this.S * this.N * this.wm.cfg.actionDim + 2;
  }

  /**
   * y [N] from imagination starts z [N, Z] at zOff (see the header for which latents), stored
   * rewards reward [N] and termination flags term [N].
   */
  compute(z: F32, zOff: number, reward: F32, term: F32, seed: number, counter: number): F32 {
    const e = this.engine;
    const wm = this.wm;
    const { latentDim: Z, numQ: K, numRewardHeads: Kr, numBins: NB, vmin, vmax, valueForm } = wm.cfg;
    const { N, S, ctx } = this;
    const SN = S * N;
    let zs = z;
    let zsOff = zOff;
    if (this.starts) {
      for (let s = 0; s < S; s++) e.copy(N * Z, z, zOff, this.starts, s * N * Z);
      zs = this.starts;
      zsOff = 0;
    }
    const eps = wm.policyNet.sampleEps(ctx.pol, SN, seed, counter);
    wm.policyNet.forward(ctx.pol, SN, zs, zsOff, eps, 0);
    const a = ctx.pol.head.action;
    const tgt = wm.targetOptions();
    if (valueForm === 'V') {
      wm.rewardNet.forward(ctx.rew, SN, zs, zsOff, a, 0, null, 0);
      this.decodeMean(Kr, SN, ctx.rew.out, ctx.rew.outOff, NB, vmin, vmax, this.r);
      wm.dynamicsNet.forward(ctx.dyn!, SN, zs, zsOff, a, 0, null, 0, 0);
      wm.valueNet.forward(ctx.val, SN, ctx.dyn!.out, ctx.dyn!.outOff, null, 0, null, 0, tgt);
      this.decodeMean(K, SN, ctx.val.out, ctx.val.outOff, NB, vmin, vmax, this.v);
      for (let s = 0; s < S; s++) tdTarget(N, this.discount, this.r, s * N, this.v, s * N, term, 0, this.yAll, s * N);
    } else {
      // min2 runs only the two drawn target heads (the values of the others would be discarded).
      const c = counter + SN * wm.cfg.actionDim;
      const pair = this.qTarget === 'min2' && K > 1 ? randomHeadPair(K, uniformAt(seed, c), uniformAt(seed, c + 1)) : null;
      wm.valueNet.forward(ctx.val, SN, zs, zsOff, a, 0, null, 0, tgt, pair);
      if (pair) this.decodeMin2(SN, ctx.val.out, ctx.val.outOff, NB, vmin, vmax, this.v);
      else this.decodeMean(K, SN, ctx.val.out, ctx.val.outOff, NB, vmin, vmax, this.v);
      for (let s = 0; s < S; s++) tdTarget(N, this.discount, reward, 0, this.v, s * N, term, 0, this.yAll, s * N);
    }
    // Average over the S policy samples.
    e.copy(N, this.yAll, 0, this.y, 0);
    for (let s = 1; s < S; s++) e.axpy(N, 1, this.yAll, s * N, this.y, 0);
    if (S > 1) e.scale(N, 1 / S, this.y, 0);
    return this.y;
  }

  /** out [R] = elementwise min of the two heads' decoded logits [2, R, NB]. */
  private decodeMin2(R: number, logits: F32, logitsOff: number, NB: number, vmin: number, vmax: number, out: F32): void {
    this.engine.twoHotDecode(2 * R, NB, vmin, vmax, logits, logitsOff, this.decoded, 0);
    const d = this.decoded;
    for (let i = 0; i < R; i++) out[i] = Math.min(d[i], d[R + i]);
  }

  /** out [R] = mean over K heads of the decoded logits [K, R, NB]. */
  private decodeMean(K: number, R: number, logits: F32, logitsOff: number, NB: number, vmin: number, vmax: number, out: F32): void {
    const e = this.engine;
    if (K === 1) {
      e.twoHotDecode(R, NB, vmin, vmax, logits, logitsOff, out, 0);
      return;
    }
    e.twoHotDecode(K * R, NB, vmin, vmax, logits, logitsOff, this.decoded, 0);
    e.copy(R, this.decoded, 0, out, 0);
    for (let k = 1; k < K; k++) e.axpy(R, 1, this.decoded, k * R, out, 0);
    e.scale(R, 1 / K, out, 0);
  }
}
