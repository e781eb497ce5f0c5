// An update-shaped forward/backward through the whole world model, with the loss gradients
// supplied by the caller (llm.c's fake loss Σ out·dout in tests, timing in `bench model`). It is the
// template for the training update: the update computes its losses between forward() and
// backward() and writes their gradients into the d* buffers.
//
//   B = batch, H = horizon, Z = latent, A = actions, NB = bins, Kr/Kq = reward/value heads.
//   obs      [B, obsDim]       first observation of each sub-trajectory
//   actions  [H, B, A]
//   z        [H+1, B, Z]       z_0 = enc(obs), z_{t+1} = dyn(z_t, a_t) (dynamics head 0)
//   rewardLogits [Kr, H·B, NB] reward(z_t, a_t), t < H
//   valueLogits  [Kq, H·B, NB] V(z_t) or Q(z_t, a_t), t < H (dropout in training mode)
//   policy   on z_t, t <= H ((H+1)·B rows): outputs in pol.head (mean, logStd, action, logProb, entropy)
//   termLogits [H·B]           termination(z_{t+1}) (only with cfg.termination)
// Gradients in: dz [H+1, B, Z] (e.g. consistency), dRewardLogits, dValueLogits, policyGrads,
// dTermLogits. backward() accumulates parameter gradients (zero them first) and does not modify dz.
import type { F32 } from '../engine/engine.js';
import type { EnsembleContext } from '../nn/ensemble.js';
import type { MlpContext } from '../nn/mlp.js';
import type { DynamicsContext } from './dynamics.js';
import type { PolicyHeadGrads } from './policy-head.js';
import type { PolicyContext } from './policy.js';
import type { WorldModel } from './world-model.js';

export interface PassOptions {
  /** Dropout on (value heads): counters [counter, counter + valueNet.dropoutCount(H·B)). */
  train?: boolean;
  seed?: number;
  counter?: number;
  /** Policy noise: counters [policyCounter, + (H+1)·B·A) under seed; null = deterministic. */
  policyCounter?: number | null;
  /** Stop the policy's gradient into the latents (BMPC/TD-MPC2 train the policy on sg(z)). */
  detachPolicy?: boolean;
}

export class WorldModelPass {
  readonly z: F32;
  readonly rewardLogits: F32;
  readonly valueLogits: F32;
  readonly termLogits: F32 | null;
  readonly dz: F32;
  readonly dRewardLogits: F32;
  readonly dValueLogits: F32;
  readonly dTermLogits: F32 | null;
  readonly policyGrads: Required<{ [K in keyof PolicyHeadGrads]: F32 }>;
  readonly enc: MlpContext;
  readonly dyn: DynamicsContext[] = [];
  readonly rew: EnsembleContext;
  readonly val: EnsembleContext;
  readonly pol: PolicyContext;
  readonly term: MlpContext | null;
  /** Accumulated latent gradient [H+1, B, Z] (internal). */
  private readonly dzAcc: F32;
  private detachPolicy = false;

  constructor(readonly wm: WorldModel, readonly B: number, readonly H: number) {
    const s = wm.store;
    const { latentDim: Z, actionDim: A, numBins: NB, numQ, numRewardHeads } = wm.cfg;
    const HB = H * B;
    const H1B = (H + 1) * B;
    this.z = s.alloc(H1B * Z);
    this.dz = s.alloc(H1B * Z);
    this.dzAcc = s.alloc(H1B * Z);
    this.rewardLogits = s.alloc(numRewardHeads * HB * NB);
    this.dRewardLogits = s.alloc(numRewardHeads * HB * NB);
    this.valueLogits = s.alloc(numQ * HB * NB);
    this.dValueLogits = s.alloc(numQ * HB * NB);
    this.termLogits = wm.terminationNet ? s.alloc(HB) : null;
    this.dTermLogits = wm.terminationNet ? s.alloc(HB) : null;
    this.policyGrads = {
      dmean: s.alloc(H1B * A), dlogStd: s.alloc(H1B * A), daction: s.alloc(H1B * A), dlogProb: s.alloc(H1B), dentropy: s.alloc(H1B),
      dscaledLogProb: s.alloc(H1B),
    };
    this.enc = wm.encoderNet.createContext(B);
    for (let t = 0; t < H; t++) this.dyn.push(wm.dynamicsNet.createContext(B));
    this.rew = wm.rewardNet.createContext(HB);
    this.val = wm.valueNet.createContext(HB);
    this.pol = wm.policyNet.createContext(H1B);
    this.term = wm.terminationNet?.createContext(HB) ?? null;
  }

  forward(obs: F32, actions: F32, opts: PassOptions = {}): void {
    const { wm, B, H } = this;
    const { latentDim: Z, actionDim: A } = wm.cfg;
    const HB = H * B;
    this.detachPolicy = opts.detachPolicy === true;
    wm.encoderNet.forward(this.enc, B, obs, 0, this.z, 0);
    for (let t = 0; t < H; t++) {
      wm.dynamicsNet.forward(this.dyn[t], B, this.z, t * B * Z, actions, t * B * A, this.z, (t + 1) * B * Z, 0);
    }
    wm.rewardNet.forward(this.rew, HB, this.z, 0, actions, 0, this.rewardLogits, 0);
    const q = wm.cfg.valueForm === 'Q';
    wm.valueNet.forward(this.val, HB, this.z, 0, q ? actions : null, 0, this.valueLogits, 0, {
      train: opts.train, seed: opts.seed, counter: opts.counter,
    });
    const pc = opts.policyCounter ?? null;
    const eps = pc === null ? null : wm.policyNet.sampleEps(this.pol, (H + 1) * B, opts.seed ?? 0, pc);
    wm.policyNet.forward(this.pol, (H + 1) * B, this.z, 0, eps, 0);
    if (wm.terminationNet) wm.terminationNet.forward(this.term!, HB, this.z, B * Z, this.termLogits, 0);
  }

  backward(): void {
    const { wm, B, H } = this;
    const e = wm.engine;
    const { latentDim: Z } = wm.cfg;
    const dz = this.dzAcc;
    e.copy((H + 1) * B * Z, this.dz, 0, dz, 0);
    wm.rewardNet.backward(this.rew, this.dRewardLogits, 0, dz, 0, null, 0);
    wm.valueNet.backward(this.val, this.dValueLogits, 0, dz, 0, null, 0);
    wm.policyNet.backward(this.pol, this.policyGrads, this.detachPolicy ? null : dz, 0);
    if (wm.terminationNet) wm.terminationNet.backward(this.term!, this.dTermLogits!, 0, dz, B * Z);
    for (let t = H - 1; t >= 0; t--) {
      wm.dynamicsNet.backward(this.dyn[t], dz, (t + 1) * B * Z, dz, t * B * Z, null, 0);
    }
    wm.encoderNet.backward(this.enc, dz, 0, null, 0);
  }
}
