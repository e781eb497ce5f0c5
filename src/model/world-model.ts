// The TD-MPC2 / BMPC world model (seed 000 §2; tdmpc2 common/world_model.py): encoder, latent
// dynamics, reward ensemble, value ensemble (V(s) or Q(s,a)) with an EMA target copy, policy prior,
// optional termination head. Shapes per network are listed in config.ts.
//
// MEMORY. All parameters are one flat array `store.params`, gradients `store.grads` (same layout),
// segments (store.segments / `seg`) in this order:
//   encoder | dynamics | reward | value | policy | termination? || dynamics_prior? (frozen)
// Per-module learning rates = one engine.adamStep per trainable segment; clipping over the
// trainable prefix [0, store.trainableLength). `valueTarget` has the value segment's layout; run
// any value forward on it with `opts = wm.targetOptions()`.
//
// TRAINING API (for the update/loss writer). Each network has createContext(maxRows) and a
// forward/backward pair; backward ACCUMULATES into store.grads (zero them with wm.zeroGrad()) and
// into the input-gradient arrays it is given (null = not needed); see src/nn/mlp.ts.
//   encoderNet   Mlp       forward(ctx, R, obs, obsOff, z|null, zOff, opts)  backward(ctx, dz, dzOff, dobs|null, dobsOff)
//   dynamicsNet  Dynamics  forward(ctx, R, z, zOff, a, aOff, zNext|null, zNextOff, head, opts)
//                          backward(ctx, dzNext, dzNextOff, dz|null, dzOff, da|null, daOff)
//   rewardNet    Ensemble  forward(ctx, R, z, zOff, a, aOff, logits|null, off, opts) -> logits [Kr,R,NB]
//                          backward(ctx, dlogits, off, dz|null, dzOff, da|null, daOff)
//   valueNet     Ensemble  V: forward(ctx, R, z, zOff, null, 0, logits|null, off, opts) -> [numQ,R,NB]
//                          Q: forward(ctx, R, z, zOff, a, aOff, ...); backward like rewardNet
//                          (dropout: opts {train: true, seed, counter}, counters valueNet.dropoutCount(R));
//                          a last argument `heads` runs only those heads (src/nn/ensemble.ts)
//   policyNet    PolicyNet forward(ctx, R, z, zOff, eps|null, epsOff) -> ctx.head.{mean,logStd,action,logProb,entropy,scaledLogProb}
//                          backward(ctx, {dmean, dlogStd, daction, dlogProb, dentropy, dscaledLogProb}, dz|null, dzOff)
//   terminationNet Mlp|null  z -> logit [R,1]
// With f = null outputs, results stay in the context (ctx.out at ctx.outOff). Detached passes
// (gradient to inputs only, like tdmpc2's detached Q): backward(..., { grads: null }).
// src/model/pass.ts is a complete example (an update-shaped forward/backward).
//
// INFERENCE API (planner, actors): encode/next/reward/value/pi below, no gradients, one reusable
// context per network (created on first use, up to `inferenceRows` rows), no allocation per call.
import type { Engine, F32 } from '../engine/engine.js';
import { ShapeError } from '../errors.js';
import { Ensemble, type EnsembleContext } from '../nn/ensemble.js';
import { Mlp, type MlpContext } from '../nn/mlp.js';
import { ACT_SIMNORM } from '../engine/engine.js';
import { ParamStore, type DType, type Segment } from '../nn/params.js';
import type { ForwardOptions } from '../nn/types.js';
import { priorHidden, validateWorldModelConfig, type WorldModelConfig } from './config.js';
import { DynamicsNet, type DynamicsContext } from './dynamics.js';
import { PolicyNet, type PolicyContext } from './policy.js';

export interface WorldModelOptions {
  /** Seed of the deterministic initialization. Default 1. */
  seed?: number;
  /** 'float64' for gradient checks with the JS engine. Default 'float32'. */
  dtype?: DType;
  /** Caller-supplied flat arrays (e.g. SharedArrayBuffer-backed); lengths must match the layout. */
  params?: F32;
  grads?: F32;
  valueTarget?: F32;
  /** Initialize params (and copy them to the target). Default: true unless params were supplied. */
  initialize?: boolean;
  /** Max rows of the inference API's contexts. Default 1024. */
  inferenceRows?: number;
}

export interface WorldModelSegments {
  encoder: Segment;
  dynamics: Segment;
  reward: Segment;
  value: Segment;
  policy: Segment;
  termination: Segment | null;
  /** Frozen priors (not trained). */
  prior: Segment | null;
}

interface Networks {
  encoderNet: Mlp;
  dynamicsNet: DynamicsNet;
  rewardNet: Ensemble;
  valueNet: Ensemble;
  policyNet: PolicyNet;
  terminationNet: Mlp | null;
  seg: WorldModelSegments;
}

function buildNetworks(e: Engine, s: ParamStore, cfg: WorldModelConfig): Networks {
  const Z = cfg.latentDim;
  const A = cfg.actionDim;
  const M = cfg.mlpDim;
  const NB = cfg.numBins;
  const init = cfg.init;
  s.beginSegment('encoder');
  const encoderNet = new Mlp(e, s, 'encoder', {
    inDim: cfg.obsDim, hidden: new Array<number>(Math.max(cfg.numEncLayers - 1, 1)).fill(cfg.encDim), outDim: Z,
    outAct: ACT_SIMNORM, group: cfg.simnormDim, init,
  });
  const encoder = s.endSegment();
  s.beginSegment('dynamics');
  const dynamicsNet = new DynamicsNet(e, s, Z, A, M, cfg.simnormDim, cfg.numDynamicsHeads, cfg.priorScale, init);
  const dynamics = s.endSegment();
  s.beginSegment('reward');
  const rewardNet = new Ensemble(e, s, 'reward', cfg.numRewardHeads, Z, A, {
    hidden: new Array<number>(cfg.numRewardLayers).fill(M), outDim: NB, outAct: 'linear', init, zeroOutput: true,
  });
  const reward = s.endSegment();
  s.beginSegment('value');
  const valueNet = new Ensemble(e, s, 'value', cfg.numQ, Z, cfg.valueForm === 'Q' ? A : 0, {
    hidden: [M, M], outDim: NB, outAct: 'linear', init, zeroOutput: true,
    dropout: cfg.valueDropoutLayers === 'all' ? [cfg.dropout, cfg.dropout] : [cfg.dropout, 0],
    dropoutPosition: cfg.valueDropoutPosition,
  });
  const value = s.endSegment();
  s.beginSegment('policy');
  const policyNet = new PolicyNet(e, s, Z, M, A, cfg.policyForm, cfg.logStdMin, cfg.logStdMax, init);
  const policy = s.endSegment();
  let terminationNet: Mlp | null = null;
  let termination: Segment | null = null;
  if (cfg.termination) {
    s.beginSegment('termination');
    terminationNet = new Mlp(e, s, 'termination', { inDim: Z, hidden: [M, M], outDim: 1, outAct: 'linear', init });
    termination = s.endSegment();
  }
  let prior: Segment | null = null;
  if (cfg.priorScale > 0) {
    s.beginSegment('dynamics_prior', true);
    dynamicsNet.addPriors(priorHidden(cfg), init);
    prior = s.endSegment();
  }
  return {
    encoderNet, dynamicsNet, rewardNet, valueNet, policyNet, terminationNet,
    seg: { encoder, dynamics, reward, value, policy, termination, prior },
  };
}

export interface ValueOptions {
  /** Use the EMA target parameters. Default false. */
  target?: boolean;
  /** 'mean' over heads -> vOut [R]; 'all' -> vOut [K', R]. Default 'mean'. */
  reduce?: 'mean' | 'all';
  /** The heads to run (K' = their count; tdmpc2's Q(..., 'avg') averages 2 random ones). Default: all numQ. */
  heads?: readonly number[] | null;
  zOff?: number;
  aOff?: number;
  outOff?: number;
}

export interface PiOptions {
  /** Sample eps ~ N(0,1) (default true); false gives the deterministic action (eps = 0). */
  sample?: boolean;
  zOff?: number;
  /** Offset of all three outputs (each [R,A]). */
  outOff?: number;
}

interface InferenceContexts {
  enc: MlpContext;
  dyn: DynamicsContext;
  rew: EnsembleContext;
  val: EnsembleContext;
  pol: PolicyContext;
  term: MlpContext | null;
  /** Decoded per-head scalars [max(numQ, numRewardHeads), maxRows]. */
  decoded: F32;
}

export class WorldModel {
  readonly store: ParamStore;
  readonly encoderNet: Mlp;
  readonly dynamicsNet: DynamicsNet;
  readonly rewardNet: Ensemble;
  readonly valueNet: Ensemble;
  readonly policyNet: PolicyNet;
  readonly terminationNet: Mlp | null;
  readonly seg: WorldModelSegments;
  /** EMA copy of the value ensemble, laid out like the value segment. */
  readonly valueTarget: F32;
  readonly inferenceRows: number;
  private inf: InferenceContexts | null = null;
  private readonly targetOpts: ForwardOptions;

  constructor(readonly engine: Engine, readonly cfg: WorldModelConfig, options: WorldModelOptions = {}) {
    validateWorldModelConfig(cfg);
    this.store = new ParamStore({ dtype: options.dtype ?? 'float32' });
    const nets = buildNetworks(engine, this.store, cfg);
    this.encoderNet = nets.encoderNet;
    this.dynamicsNet = nets.dynamicsNet;
    this.rewardNet = nets.rewardNet;
    this.valueNet = nets.valueNet;
    this.policyNet = nets.policyNet;
    this.terminationNet = nets.terminationNet;
    this.seg = nets.seg;
    this.store.finalize({ params: options.params, grads: options.grads });
    const vlen = this.seg.value.length;
    if (options.valueTarget && options.valueTarget.length !== vlen) {
      throw new ShapeError(`WorldModel: valueTarget has ${options.valueTarget.length} floats but the value segment has ${vlen}`);
    }
    this.valueTarget = options.valueTarget ?? this.store.alloc(vlen);
    this.targetOpts = { params: this.valueTarget, shift: -this.seg.value.offset };
    this.inferenceRows = options.inferenceRows ?? 1024;
    if (options.initialize ?? options.params === undefined) {
      this.store.initialize(engine, options.seed ?? 1);
      this.syncTarget();
    }
  }

  /** The size table (segments, tensors, sizes) of a config without allocating parameters. */
  static layout(engine: Engine, cfg: WorldModelConfig): ParamStore {
    validateWorldModelConfig(cfg);
    const s = new ParamStore();
    buildNetworks(engine, s, cfg);
    return s;
  }

  get params(): F32 {
    return this.store.params;
  }

  get grads(): F32 {
    return this.store.grads;
  }

  /** Trainable segments (one optimizer call each). */
  trainableSegments(): Segment[] {
    return this.store.segments.filter((s) => !s.frozen);
  }

  zeroGrad(): void {
    this.store.zeroGrad();
  }

  /** Global L2 norm of the trainable gradients (for clipping). */
  gradNorm(): number {
    return Math.sqrt(this.engine.sumSquares(this.store.trainableLength, this.store.grads, 0));
  }

  /** ForwardOptions that run the value ensemble on the EMA target (merge with train/seed/counter). */
  targetOptions(): ForwardOptions {
    return this.targetOpts;
  }

  /** valueTarget = online value parameters. */
  syncTarget(): void {
    this.engine.copy(this.seg.value.length, this.store.params, this.seg.value.offset, this.valueTarget, 0);
  }

  /** valueTarget += tau · (online - valueTarget). */
  updateTarget(tau: number): void {
    this.engine.polyak(this.seg.value.length, tau, this.store.params, this.seg.value.offset, this.valueTarget, 0);
  }

  // ---------------------------------------------------------------- inference API
  private contexts(): InferenceContexts {
    if (!this.inf) {
      const n = this.inferenceRows;
      this.inf = {
        enc: this.encoderNet.createContext(n), dyn: this.dynamicsNet.createContext(n), rew: this.rewardNet.createContext(n),
        val: this.valueNet.createContext(n), pol: this.policyNet.createContext(n), term: this.terminationNet?.createContext(n) ?? null,
        decoded: this.store.alloc(Math.max(this.cfg.numQ, this.cfg.numRewardHeads) * n),
      };
    }
    return this.inf;
  }

  /** z [R,Z] = encoder(obs [R,obsDim]). */
  encode(R: number, obs: F32, z: F32, obsOff = 0, zOff = 0): void {
    const c = this.contexts();
    this.encoderNet.forward(c.enc, R, obs, obsOff, z, zOff);
  }

  /** zNext [R,Z] = dynamics head `head` (z [R,Z], a [R,A]). */
  next(R: number, z: F32, a: F32, zNext: F32, head = 0, zOff = 0, aOff = 0, zNextOff = 0): void {
    const c = this.contexts();
    this.dynamicsNet.forward(c.dyn, R, z, zOff, a, aOff, zNext, zNextOff, head);
  }

  /** rOut [R] = decoded reward, mean over reward heads. */
  reward(R: number, z: F32, a: F32, rOut: F32, zOff = 0, aOff = 0, rOff = 0): void {
    const c = this.contexts();
    this.rewardNet.forward(c.rew, R, z, zOff, a, aOff, null, 0);
    this.decodeMean(this.cfg.numRewardHeads, R, c.rew.out, c.decoded, rOut, rOff);
  }

  /** vOut = decoded V(z) or Q(z, a): [R] (mean over the heads run) or [K', R] (reduce 'all'). */
  value(R: number, z: F32, a: F32 | null, vOut: F32, opts: ValueOptions = {}): void {
    const c = this.contexts();
    const isQ = this.cfg.valueForm === 'Q';
    if (isQ && a === null) throw new ShapeError('value: the Q(s,a) form needs actions a [R, actionDim], got null');
    const fwd = opts.target === true ? this.targetOpts : {};
    const heads = opts.heads ?? null;
    this.valueNet.forward(c.val, R, z, opts.zOff ?? 0, isQ ? a : null, opts.aOff ?? 0, null, 0, fwd, heads);
    const K = heads ? heads.length : this.cfg.numQ;
    const outOff = opts.outOff ?? 0;
    if (opts.reduce === 'all') {
      this.engine.twoHotDecode(K * R, this.cfg.numBins, this.cfg.vmin, this.cfg.vmax, c.val.out, 0, vOut, outOff);
    } else {
      this.decodeMean(K, R, c.val.out, c.decoded, vOut, outOff);
    }
  }

  /** Decodes logits [K,R,NB] and writes the mean over K heads to out [R]. */
  private decodeMean(K: number, R: number, logits: F32, decoded: F32, out: F32, outOff: number): void {
    const e = this.engine;
    const { numBins, vmin, vmax } = this.cfg;
    if (K === 1) {
      e.twoHotDecode(R, numBins, vmin, vmax, logits, 0, out, outOff);
      return;
    }
    e.twoHotDecode(K * R, numBins, vmin, vmax, logits, 0, decoded, 0);
    e.copy(R, decoded, 0, out, outOff);
    for (let k = 1; k < K; k++) e.axpy(R, 1, decoded, k * R, out, outOff);
    e.scale(R, 1 / K, out, outOff);
  }

  /**
   * Policy prior at z [R,Z]: outMean, outLogStd, outAction [R,A] (any may be null). With sample,
   * eps uses counters [rngCounter, rngCounter + R·A) under rngSeed.
   */
  pi(
    R: number, z: F32, outMean: F32 | null, outLogStd: F32 | null, outAction: F32 | null,
    rngSeed: number, rngCounter: number, opts: PiOptions = {},
  ): void {
    const c = this.contexts();
    const pn = this.policyNet;
    const eps = opts.sample === false ? null : pn.sampleEps(c.pol, R, rngSeed, rngCounter);
    pn.forward(c.pol, R, z, opts.zOff ?? 0, eps, 0);
    const n = R * this.cfg.actionDim;
    const off = opts.outOff ?? 0;
    if (outMean) this.engine.copy(n, c.pol.head.mean, 0, outMean, off);
    if (outLogStd) this.engine.copy(n, c.pol.head.logStd, 0, outLogStd, off);
    if (outAction) this.engine.copy(n, c.pol.head.action, 0, outAction, off);
  }

  /** Termination logits [R] (pre-sigmoid); requires cfg.termination. */
  terminationLogit(R: number, z: F32, out: F32, zOff = 0, outOff = 0): void {
    const c = this.contexts();
    if (!this.terminationNet) throw new ShapeError('terminationLogit: this world model has no termination head (cfg.termination = false)');
    this.terminationNet.forward(c.term!, R, z, zOff, out, outOff);
  }
}
