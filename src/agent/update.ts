// One training update (seed 000 sections 3-5, 7, 8): world-model losses forward and backward, the
// policy objective, zero-NaN + global-norm clipping, Adam(W) steps, EMA of the target value
// ensemble. Returns a flat dict of named scalars (tdmpc2 style; logging belongs to the caller).
//
// Dims: B batch, H horizon, N = H·B, N1 = (H+1)·B, Z latent, A actions, O obs, NB bins,
// K value heads, Kr reward heads, S = num_rollouts. Row index everywhere: t·B + b (time-major,
// like ReplayBatch).
//
//   z_0 = enc(o_0);  z_{t+1} = next(z_t, a_t)                              (grad)   z    [N1, Z]
//   zEnc_t = enc(o_t)                                                      (no grad) zEnc [N1, Z]
//   L_c = Σ_t w_t · mean_{b,z} (z_{t+1} - zEnc_{t+1})²
//   L_r = Σ_t w_t · mean_{b,heads} CE(reward(z_t, a_t), two-hot(r_t))
//   L_v = Σ_t w_t · mean_{b,heads} CE(V(z_t) | Q(z_t, a_t), two-hot(y_t))   y: td-target.ts
//   L_d = mean_{t,b} BCE(term(z_{t+1}), d_t)                               (termination head only)
//   total = consistency_coef·L_c + reward_coef·L_r + value_coef·L_v + termination_coef·L_d
//   w_t = rhoWeights(rho, H, rho_normalize): TD-MPC2's `* rho^t` then `/ horizon` (the torch
//   anchor's `20 * cons / H`) or BMPC's normalized rho^t, see losses.ts.
//   pi_loss: policy-objective.ts, on the detached latents z (all H+1 steps), evaluated after the
//   world model's optimizer step (tdmpc2's update_pi follows optim.step), so the policy climbs
//   the value functions this update just trained.
//
// Optimizers (optimizer.ts): one Adam(W) group per segment (encoder lr·enc_lr_scale, policy
// lr·pi_lr_scale with eps 1e-5 as tdmpc2's pi_optim, others lr). Two clip sets like tdmpc2 and
// bmpc-jax, which give the policy its own optimizer: the world model (every non-policy group) and
// the policy, each zero-NaN'd and clipped to grad_clip_norm separately.
// value_update_freq / pi_update_freq: on the other updates the value loss (and TD target) or the
// policy objective is skipped and its groups are not stepped. The EMA target moves every update.
//
// Randomness (dropout masks, policy noise) comes from counters base + ..., base = updates·stride
// under opts.seed, so an update is reproducible and `evaluateLosses` replays the same noise.
// Memory: every buffer and network context is sized at construction; update() allocates nothing.
import type { Engine, F32 } from '../engine/engine.js';
import { ConfigError, ShapeError } from '../errors.js';
import type { ForwardOptions } from '../nn/types.js';
import type { WorldModel } from '../model/world-model.js';
import type { ReplayBatch } from '../replay/replay-buffer.js';
import {
  bceLogitsBackward, bceLogitsForward, consistencyBackward, consistencyForward, rhoWeights, softCeBackward, softCeForward,
} from './losses.js';
import { FlatAdam, type ParamGroup } from './optimizer.js';
import { PolicyObjective } from './policy-objective.js';
import { TdTargets } from './td-target.js';
import { emptyInfo, type UpdateInfo, type UpdateOptions } from './update-options.js';

export { updateOptionsFromConfig, type UpdateInfo, type UpdateOptions } from './update-options.js';

export class Updater {
  readonly B: number;
  readonly H: number;
  readonly N: number;
  readonly N1: number;
  readonly optim: FlatAdam;
  readonly pi: PolicyObjective;
  readonly td: TdTargets;
  readonly info: UpdateInfo = emptyInfo();
  /** Updates completed (drives value/pi frequencies and the RNG counters). */
  updates = 0;
  /** NaN/Inf gradient entries zeroed over the run's updates (Agent checkpoints carry it). */
  nonFiniteGradsTotal = 0;
  private readonly wH: Float64Array; // [H] rho weights of the world-model terms
  private readonly stride: number; // counters per update
  private readonly ctx;
  // activations and gradients
  private readonly z: F32; // [N1, Z] rollout latents
  private readonly zEnc: F32; // [N1, Z] encoder latents (stop-gradient)
  private readonly dz: F32; // [N1, Z]
  private readonly diff: F32; // [N, Z] consistency residuals
  private readonly rewTarget: F32; // [N, NB]
  private readonly valTarget: F32; // [N, NB]
  private readonly rowLoss: F32; // [N]
  private readonly coefRew: F32; // [N] w_t / (B·Kr)
  private readonly coefRewBwd: F32; // [N] reward_coef · coefRew
  private readonly coefVal: F32; // [N] w_t / (B·K)
  private readonly coefValBwd: F32; // [N] value_coef · coefVal
  private readonly dRew: F32; // [Kr, N, NB]
  private readonly dVal: F32; // [K, N, NB]
  private readonly termLogit: F32 | null; // [N]
  private readonly dTerm: F32 | null; // [N]
  private readonly valueFwd: ForwardOptions = { train: true, seed: 0, counter: 0 };
  private readonly modelGroups: Int32Array;
  /** Each world-model group alone (grad_clip_scope = module). */
  private readonly moduleGroups: Int32Array[];
  private readonly modelGroupsNoValue: Int32Array;
  private readonly piGroups: Int32Array;

  constructor(private readonly engine: Engine, readonly wm: WorldModel, readonly opts: UpdateOptions) {
    const { batchSize: B, horizon: H, numRollouts: S } = opts;
    const { latentDim: Z, numBins: NB, numQ: K, numRewardHeads: Kr, valueForm } = wm.cfg;
    if (wm.cfg.numDynamicsHeads !== 1) {
      throw new ConfigError(`update: num_dynamics_heads=${wm.cfg.numDynamicsHeads} is not supported by the update yet; use num_dynamics_heads=1`);
    }
    if (!Number.isInteger(B) || B < 1 || !Number.isInteger(H) || H < 1 || !Number.isInteger(S) || S < 1) {
      throw new ConfigError(`update: batch_size, horizon and num_rollouts must be positive integers, got ${B}, ${H}, ${S}`);
    }
    this.B = B;
    this.H = H;
    const N = (this.N = H * B);
    const N1 = (this.N1 = (H + 1) * B);
    const s = wm.store;
    const maxQ = opts.policy.objective !== 'distill'; // max_q and residual evaluate Q(z, π(z))
    const isV = valueForm === 'V';
    // Contexts: per-step dynamics for the rollout (kept until backward); the reward/value/policy
    // contexts are shared by the TD target (before the loss forward), the losses, and the policy
    // objective (after the world-model backward), so they are sized for the largest of the three.
    const big = Math.max(N1, S * N);
    const dynBig = isV ? wm.dynamicsNet.createContext(big) : null;
    this.ctx = {
      enc: wm.encoderNet.createContext(B),
      encTgt: wm.encoderNet.createContext(N),
      dyn: Array.from({ length: H }, () => wm.dynamicsNet.createContext(B)),
      dynBig,
      rew: wm.rewardNet.createContext(big),
      val: wm.valueNet.createContext(big),
      pol: wm.policyNet.createContext(big),
      term: wm.terminationNet ? wm.terminationNet.createContext(N) : null,
    };
    this.td = new TdTargets(engine, wm, B, H, S, opts.discount, opts.qTarget, {
      pol: this.ctx.pol, rew: this.ctx.rew, val: this.ctx.val, dyn: dynBig,
    });
    this.pi = new PolicyObjective(engine, wm, B, H, { ...opts.policy, rho: opts.rho, rhoNormalize: opts.rhoNormalize, discount: opts.discount }, {
      pol: this.ctx.pol, val: maxQ ? this.ctx.val : null, rew: maxQ && isV ? this.ctx.rew : null, dyn: maxQ && isV ? dynBig : null,
    });
    this.wH = rhoWeights(opts.rho, H, opts.rhoNormalize);
    this.stride = wm.valueNet.dropoutCount(N) + this.td.counters() + this.pi.counters();
    this.z = s.alloc(N1 * Z);
    this.zEnc = s.alloc(N1 * Z);
    this.dz = s.alloc(N1 * Z);
    this.diff = s.alloc(N * Z);
    this.rewTarget = s.alloc(N * NB);
    this.valTarget = s.alloc(N * NB);
    this.rowLoss = s.alloc(N);
    this.coefRew = s.alloc(N);
    this.coefRewBwd = s.alloc(N);
    this.coefVal = s.alloc(N);
    this.coefValBwd = s.alloc(N);
    for (let t = 0; t < H; t++) {
      for (let b = 0; b < B; b++) {
        const i = t * B + b;
        this.coefRew[i] = this.wH[t] / (B * Kr);
        this.coefRewBwd[i] = opts.rewardCoef * this.coefRew[i];
        this.coefVal[i] = this.wH[t] / (B * K);
        this.coefValBwd[i] = opts.valueCoef * this.coefVal[i];
      }
    }
    this.dRew = s.alloc(Kr * N * NB);
    this.dVal = s.alloc(K * N * NB);
    this.termLogit = wm.terminationNet ? s.alloc(N) : null;
    this.dTerm = wm.terminationNet ? s.alloc(N) : null;
    // Optimizer groups, one per trainable segment.
    const seg = wm.seg;
    const groups: ParamGroup[] = [
      { name: 'encoder', offset: seg.encoder.offset, length: seg.encoder.length, lr: opts.lr * opts.encLrScale, eps: 1e-8 },
      { name: 'dynamics', offset: seg.dynamics.offset, length: seg.dynamics.length, lr: opts.lr, eps: 1e-8 },
      { name: 'reward', offset: seg.reward.offset, length: seg.reward.length, lr: opts.lr, eps: 1e-8 },
      { name: 'value', offset: seg.value.offset, length: seg.value.length, lr: opts.lr, eps: 1e-8 },
      { name: 'policy', offset: seg.policy.offset, length: seg.policy.length, lr: opts.lr * opts.piLrScale, eps: opts.piAdamEps ?? 1e-5 },
    ];
    if (seg.termination) {
      groups.push({ name: 'termination', offset: seg.termination.offset, length: seg.termination.length, lr: opts.lr, eps: 1e-8 });
    }
    this.optim = new FlatAdam(engine, wm.params, wm.grads, groups, { kind: opts.optimizer, weightDecay: opts.weightDecay }, (n) => s.alloc(n));
    const names = groups.map((g) => g.name);
    const idx = (keep: (n: string) => boolean) => Int32Array.from(names.flatMap((n, i) => (keep(n) ? [i] : [])));
    this.modelGroups = idx((n) => n !== 'policy');
    this.moduleGroups = Array.from(this.modelGroups, (g) => Int32Array.of(g));
    this.modelGroupsNoValue = idx((n) => n !== 'policy' && n !== 'value');
    this.piGroups = idx((n) => n === 'policy');
  }

  private checkBatch(batch: ReplayBatch): void {
    if (batch.B !== this.B || batch.H !== this.H) {
      throw new ShapeError(`update: batch is B=${batch.B} H=${batch.H} but the updater was built for B=${this.B} H=${this.H}`);
    }
  }

  private get valueDue(): boolean {
    return this.updates % this.opts.valueUpdateFreq === 0;
  }

  private get piDue(): boolean {
    return this.updates % this.opts.piUpdateFreq === 0;
  }

  /**
   * One full update: gradients, clipping, optimizer steps, EMA. progress in [0, 1] drives the
   * distill entropy schedule (env steps done / total). Returns this.info (overwritten next time).
   */
  update(batch: ReplayBatch, progress = 0): UpdateInfo {
    // TD-MPC2's order: the world model steps first, then the policy objective runs against the
    // stepped value functions (tdmpc2 update_pi after optim.step; bmpc-jax and tdmpc_square alike),
    // on the latents of this update's rollout.
    this.checkBatch(batch);
    this.wm.zeroGrad();
    this.runModel(batch, true, true);
    const info = this.info;
    const o = this.optim;
    const clipNorm = this.opts.gradClipNorm;
    if (this.opts.gradClipScope === 'module') {
      // bmpc-jax: every module has its own optimizer chain, so each is clipped by its own norm;
      // grad_norm reports the norm over all of them, as the joint clip does.
      let sq = 0;
      let nonFinite = 0;
      const stepped = info.value_updated ? this.modelGroups : this.modelGroupsNoValue;
      for (const g of this.moduleGroups) {
        const c = o.clip(g, clipNorm);
        sq += c.norm * c.norm;
        nonFinite += c.nonFinite;
        if (stepped.includes(g[0])) o.step(g, c.scale);
      }
      info.grad_norm = Math.sqrt(sq);
      info.nonfinite_grads = nonFinite;
    } else {
      const mc = o.clip(this.modelGroups, clipNorm); // (reused object: read before the next clip)
      o.step(info.value_updated ? this.modelGroups : this.modelGroupsNoValue, mc.scale);
      info.grad_norm = mc.norm;
      info.nonfinite_grads = mc.nonFinite;
    }
    info.pi_grad_norm = 0;
    this.runPolicy(batch, progress, true, true);
    if (info.pi_updated) {
      const pc = o.clip(this.piGroups, clipNorm);
      o.step(this.piGroups, pc.scale);
      info.pi_grad_norm = pc.norm;
      info.nonfinite_grads += pc.nonFinite;
    }
    this.wm.updateTarget(this.opts.tau);
    this.nonFiniteGradsTotal += info.nonfinite_grads;
    info.nonfinite_grads_total = this.nonFiniteGradsTotal;
    this.updates++;
    info.updates = this.updates;
    return info;
  }

  /**
   * Losses and gradients (in wm.grads, zeroed first) at the current parameters, without stepping:
   * world model and policy objective both at these parameters (update() runs the policy part after
   * the world model's step). Also refreshes the stop-gradient targets (encoder latents, TD targets)
   * and the running scales.
   */
  computeGradients(batch: ReplayBatch, progress = 0): UpdateInfo {
    this.checkBatch(batch);
    this.wm.zeroGrad();
    this.runModel(batch, true, true);
    this.runPolicy(batch, progress, true, true);
    return this.info;
  }

  /**
   * The world-model total and the policy loss at the current parameters, with the targets and
   * scales of the last computeGradients() held fixed and the same random counters: the functions
   * whose gradients computeGradients() returns (finite-difference checks). Does not touch grads.
   */
  evaluateLosses(batch: ReplayBatch, progress = 0): { model: number; pi: number } {
    this.checkBatch(batch);
    this.runModel(batch, false, false);
    this.runPolicy(batch, progress, false, false);
    return { model: this.info.total_loss, pi: this.info.pi_loss };
  }

  /** The world-model losses (and, if backward, their gradients), latents this.z included. */
  private runModel(batch: ReplayBatch, refresh: boolean, backward: boolean): void {
    const e = this.engine;
    const wm = this.wm;
    const { B, H, N, N1, opts, ctx, info } = this;
    const { latentDim: Z, actionDim: A, obsDim: O, numBins: NB, numQ: K, numRewardHeads: Kr, vmin, vmax, valueForm } = wm.cfg;
    const isQ = valueForm === 'Q';
    const doValue = this.valueDue;
    const seed = this.opts.seed >>> 0;
    const cValue = this.updates * this.stride;
    const cTd = this.tdCounter();

    // ---- forward: rollout and stop-gradient targets
    wm.encoderNet.forward(ctx.enc, B, batch.obs, 0, this.z, 0);
    for (let t = 0; t < H; t++) {
      wm.dynamicsNet.forward(ctx.dyn[t], B, this.z, t * B * Z, batch.action, t * B * A, this.z, (t + 1) * B * Z, 0);
    }
    if (refresh) {
      wm.encoderNet.forward(ctx.encTgt, N, batch.obs, B * O, this.zEnc, B * Z);
      e.copy(B * Z, this.z, 0, this.zEnc, 0); // enc(o_0): the same deterministic encoder
      e.twoHotEncode(N, NB, vmin, vmax, batch.reward, 0, this.rewTarget, 0);
      if (doValue) {
        const src = this.opts.imagineInitialSource === 'encoder' ? this.zEnc : this.z;
        const y = this.td.compute(src, isQ ? B * Z : 0, batch.reward, batch.terminated, seed, cTd);
        e.twoHotEncode(N, NB, vmin, vmax, y, 0, this.valTarget, 0);
        info.td_target = e.sum(N, y, 0) / N;
      }
    }

    // ---- losses
    let lc = 0;
    for (let t = 0; t < H; t++) {
      lc += consistencyForward(e, B, Z, this.wH[t], this.z, (t + 1) * B * Z, this.zEnc, (t + 1) * B * Z, this.diff, t * B * Z);
    }
    wm.rewardNet.forward(ctx.rew, N, this.z, 0, batch.action, 0, null, 0);
    let lr = 0;
    for (let k = 0; k < Kr; k++) {
      lr += softCeForward(e, N, NB, ctx.rew.out, ctx.rew.outOff + k * N * NB, this.rewTarget, 0, this.coefRew, 0, this.rowLoss, 0);
    }
    let lv = 0;
    if (doValue) {
      this.valueFwd.seed = seed;
      this.valueFwd.counter = cValue;
      wm.valueNet.forward(ctx.val, N, this.z, 0, isQ ? batch.action : null, 0, null, 0, this.valueFwd);
      for (let k = 0; k < K; k++) {
        lv += softCeForward(e, N, NB, ctx.val.out, ctx.val.outOff + k * N * NB, this.valTarget, 0, this.coefVal, 0, this.rowLoss, 0);
      }
    }
    let ld = 0;
    if (wm.terminationNet) {
      wm.terminationNet.forward(ctx.term!, N, this.z, B * Z, this.termLogit, 0);
      ld = bceLogitsForward(N, this.termLogit!, 0, batch.terminated, 0);
    }
    info.consistency_loss = lc;
    info.reward_loss = lr;
    info.value_loss = lv;
    info.termination_loss = ld;
    info.total_loss = opts.consistencyCoef * lc + opts.rewardCoef * lr + opts.valueCoef * lv + opts.terminationCoef * ld;
    info.value_updated = doValue ? 1 : 0;

    // ---- backward of the world model
    if (backward) {
      const dz = this.dz;
      e.fill(N1 * Z, 0, dz, 0);
      for (let t = 0; t < H; t++) {
        consistencyBackward(e, B, Z, this.wH[t], opts.consistencyCoef, this.diff, t * B * Z, dz, (t + 1) * B * Z);
      }
      e.fill(Kr * N * NB, 0, this.dRew, 0);
      for (let k = 0; k < Kr; k++) {
        softCeBackward(e, N, NB, ctx.rew.out, ctx.rew.outOff + k * N * NB, this.rewTarget, 0, this.coefRewBwd, 0, this.dRew, k * N * NB);
      }
      wm.rewardNet.backward(ctx.rew, this.dRew, 0, dz, 0, null, 0);
      if (doValue) {
        e.fill(K * N * NB, 0, this.dVal, 0);
        for (let k = 0; k < K; k++) {
          softCeBackward(e, N, NB, ctx.val.out, ctx.val.outOff + k * N * NB, this.valTarget, 0, this.coefValBwd, 0, this.dVal, k * N * NB);
        }
        wm.valueNet.backward(ctx.val, this.dVal, 0, dz, 0, null, 0);
      }
      if (wm.terminationNet) {
        e.fill(N, 0, this.dTerm!, 0);
        bceLogitsBackward(N, opts.terminationCoef, this.termLogit!, 0, batch.terminated, 0, this.dTerm!, 0);
        wm.terminationNet.backward(ctx.term!, this.dTerm!, 0, dz, B * Z);
      }
      for (let t = H - 1; t >= 0; t--) {
        wm.dynamicsNet.backward(ctx.dyn[t], dz, (t + 1) * B * Z, dz, t * B * Z, null, 0);
      }
      wm.encoderNet.backward(ctx.enc, dz, 0, null, 0);
    }
  }

  /** This update's random counters come in ranges: value dropout (from updates·stride), TD target, policy. */
  private tdCounter(): number {
    return this.updates * this.stride + this.wm.valueNet.dropoutCount(this.N);
  }

  private piCounter(): number {
    return this.tdCounter() + this.td.counters();
  }

  /**
   * The policy objective (and, if backward, the policy's gradients) on the detached latents of the
   * last runModel, at the current parameters. It reuses the reward/value/policy contexts, so it runs
   * after the world model's backward.
   */
  private runPolicy(batch: ReplayBatch, progress: number, refresh: boolean, backward: boolean): void {
    const { info } = this;
    const doPi = this.piDue;
    const seed = this.opts.seed >>> 0;
    const cPi = this.piCounter();
    info.pi_updated = doPi ? 1 : 0;
    if (doPi) {
      const st = this.pi.run(this.z, 0, batch.expertMean, batch.expertStd, progress, seed, cPi, refresh, backward);
      info.pi_loss = st.loss;
      info.pi_entropy = st.entropy;
      info.pi_scale = st.scale;
      info.pi_entropy_coef = st.entropyCoef;
      info.kl = st.kl;
      info.pi_q = st.q;
      info.pi_prior = st.prior;
    } else {
      info.pi_loss = 0;
      info.pi_entropy = 0;
      info.kl = 0;
      info.pi_q = 0;
      info.pi_prior = 0;
    }
  }

  /** Optimizer and scale state (checkpoints): moments, per-group steps, scale, update count. */
  state(): { m: F32; v: F32; steps: Int32Array; scale: { value: number; updates: number }; updates: number } {
    return { m: this.optim.m, v: this.optim.v, steps: this.optim.steps, scale: this.pi.scale.state(), updates: this.updates };
  }

  /** Restores state() (moments and steps are copied into the existing arrays). */
  load(st: { m: ArrayLike<number>; v: ArrayLike<number>; steps: ArrayLike<number>; scale: { value: number; updates: number }; updates: number }): void {
    if (st.m.length !== this.optim.m.length || st.v.length !== this.optim.v.length || st.steps.length !== this.optim.steps.length) {
      throw new ShapeError(`update.load: optimizer state has ${st.m.length}/${st.v.length}/${st.steps.length} entries, expected ${this.optim.m.length}/${this.optim.v.length}/${this.optim.steps.length}`);
    }
    this.optim.m.set(st.m);
    this.optim.v.set(st.v);
    this.optim.steps.set(st.steps);
    this.pi.scale.load(st.scale);
    this.updates = st.updates;
  }
}
