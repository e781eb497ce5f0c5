// Flat Adam / AdamW over parameter segments (llm.c gpt2_update; seed 000 section 7).
//
// The moments m and v share the parameter layout (one array each, same offsets as params/grads), so
// a step is one engine.adamStep per group. A group is a contiguous range of the flat arrays with its
// own learning rate (tdmpc2 param groups: encoder lr·enc_lr_scale, policy lr·pi_lr_scale) and its
// own step count (bias correction), since groups may be stepped at different rates
// (value_update_freq, pi_update_freq).
//
// Per optimizer ("clip set": the world model, or the policy), before the step:
//   1. zero-NaN: NaN/Inf gradient entries are set to 0 and counted (optax.zero_nans, bmpc-jax). We
//      zero and still step, rather than skipping the step, because that is what bmpc-jax does; the
//      count is reported so a diverging run is visible (nonfinite_grads).
//   2. global-norm clip: norm = sqrt(Σ g²) over the set's groups; g_eff = g · min(1, maxNorm / norm)
//      (torch.nn.utils.clip_grad_norm_ uses maxNorm / (norm + 1e-6); we follow optax's
//      clip_by_global_norm: no epsilon, which is exact when norm <= maxNorm).
//   3. Adam(W) per group with gradScale = the clip factor (engine.adamStep).
import type { Engine, F32 } from '../engine/engine.js';

export interface ParamGroup {
  name: string;
  /** Range of the flat params/grads/m/v arrays, in floats. */
  offset: number;
  length: number;
  lr: number;
  /** Adam epsilon (tdmpc2: 1e-8 for the model, 1e-5 for the policy). */
  eps: number;
}

export interface AdamOptions {
  /** 'adam': L2 decay added to the gradient (torch Adam); 'adamw': decoupled decay (optax adamw). */
  kind: 'adam' | 'adamw';
  weightDecay: number;
  beta1?: number;
  beta2?: number;
}

export interface ClipResult {
  /** Global norm of the (NaN-zeroed) gradients before clipping. */
  norm: number;
  /** Entries that were NaN/Inf and got zeroed. */
  nonFinite: number;
  /** min(1, maxNorm / norm): the factor the step applies to the gradients. */
  scale: number;
}

export class FlatAdam {
  readonly groups: ParamGroup[];
  /** First and second moments, laid out like params. */
  readonly m: F32;
  readonly v: F32;
  /** Steps taken per group (1-based bias correction uses steps[g] after increment). */
  readonly steps: Int32Array;
  readonly beta1: number;
  readonly beta2: number;
  /** The result object clip() fills and returns (reused: no allocation per step). */
  private readonly clipResult: ClipResult = { norm: 0, nonFinite: 0, scale: 1 };

  constructor(
    private readonly engine: Engine, private readonly params: F32, private readonly grads: F32,
    groups: ParamGroup[], readonly opts: AdamOptions, alloc: (n: number) => F32,
  ) {
    // A NaN or infinite hyperparameter would turn every parameter into NaN at the first step.
    for (const g of groups) {
      if (!Number.isInteger(g.offset) || !Number.isInteger(g.length) || g.offset < 0 || g.length < 0
        || g.offset + g.length > params.length) {
        throw new RangeError(`optimizer: group '${g.name}' [${g.offset}, ${g.offset + g.length}) is outside the ${params.length} parameters`);
      }
      if (!(g.lr >= 0 && Number.isFinite(g.lr))) throw new RangeError(`optimizer: group '${g.name}' needs a finite lr >= 0, got ${g.lr}`);
      if (!(g.eps > 0 && Number.isFinite(g.eps))) throw new RangeError(`optimizer: group '${g.name}' needs a finite eps > 0, got ${g.eps}`);
    }
    if (!(opts.weightDecay >= 0 && Number.isFinite(opts.weightDecay))) {
      throw new RangeError(`optimizer: weightDecay must be finite and >= 0, got ${opts.weightDecay}`);
    }
    for (const [name, beta] of [['beta1', opts.beta1], ['beta2', opts.beta2]] as const) {
      if (beta !== undefined && !(beta >= 0 && beta < 1)) throw new RangeError(`optimizer: ${name} must be in [0, 1), got ${beta}`);
    }
    this.groups = groups.map((g) => ({ ...g }));
    this.m = alloc(params.length);
    this.v = alloc(params.length);
    this.steps = new Int32Array(groups.length);
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
  }

  /** Index of a group by name (throws with the known names). */
  groupIndex(name: string): number {
    const i = this.groups.findIndex((g) => g.name === name);
    if (i < 0) throw new Error(`optimizer: no group '${name}' (have ${this.groups.map((g) => g.name).join(', ')})`);
    return i;
  }

  /**
   * Zero-NaN then global norm over the given groups; returns the clip factor for maxNorm
   * (maxNorm <= 0: no clipping). The returned object is reused by the next call.
   */
  clip(groupIdx: ArrayLike<number>, maxNorm: number): ClipResult {
    const e = this.engine;
    let nonFinite = 0;
    let sq = 0;
    for (let i = 0; i < groupIdx.length; i++) {
      const g = this.groups[groupIdx[i]];
      nonFinite += e.zeroNonFinite(g.length, this.grads, g.offset);
      sq += e.sumSquares(g.length, this.grads, g.offset);
    }
    const norm = Math.sqrt(sq);
    const scale = maxNorm > 0 && norm > maxNorm ? maxNorm / norm : 1;
    const r = this.clipResult;
    r.norm = norm;
    r.nonFinite = nonFinite;
    r.scale = scale;
    return r;
  }

  /** One Adam(W) step of the given groups, gradients multiplied by gradScale. */
  step(groupIdx: ArrayLike<number>, gradScale: number): void {
    const decoupled = this.opts.kind === 'adamw';
    for (let i = 0; i < groupIdx.length; i++) {
      const gi = groupIdx[i];
      const g = this.groups[gi];
      const step = ++this.steps[gi];
      this.engine.adamStep(
        g.length, this.params, g.offset, this.grads, g.offset, this.m, g.offset, this.v, g.offset,
        g.lr, this.beta1, this.beta2, g.eps, this.opts.weightDecay, decoupled, gradScale, step,
      );
    }
  }
}
