// MPPI planner over the learned latent model (TD-MPC2 / BMPC, seed 000 section 6), batched over
// B observations (an actor plans for all of its environments in one call).
//
// Dims: B = observations planned together, H = horizon, A = action dim, Z = latent dim,
//       Pi = num_pi_trajs, S = num_samples, P = Pi + S candidate sequences per observation, E = elites.
// Candidate rows are env-major: row = b*P + j, j < Pi are policy-prior sequences, the rest Gaussian.
//
// One call:
//   z0 = encode(obs)                                          [B, Z]
//   policy-prior sequences: roll the policy through the dynamics (scored once, then cached, unless
//                           every iteration draws its own value heads: then re-scored like tdmpc2)
//   mean = warm start (previous plan shifted by one) or 0;  std = max_std      [B, H, A]
//   repeat `iterations` times:
//     actions = clamp(mean + std * eps, -1, 1) for the S Gaussian sequences
//     value   = Σ_t γ^t r(z_t, a_t) + γ^H V(z_H)   (online or EMA value heads; V form: V(z_H), mean
//               over heads; Q form: Q(z_H, pi(z_H)), with q_estimate = avg2 the average of 2 random
//               heads drawn per iteration, tdmpc2's Q(..., 'avg'), else the mean over heads)
//     elites  = top E by value;  w = exp(temperature * (value - max)), normalized
//     mean    = Σ w a;  std = clamp(sqrt(Σ w (a - mean)²), min_std, max_std)
//   action = eval ? elite with the highest value : elite sampled by w, plus std·N(0,1) noise
//   expert = (mean[0], std[0]) (or the chosen action as the mean, by option)
// NaN/Inf scores (a diverged or overflowing model) are counted and ranked last; an elite with weight 0
// adds nothing to the refit (its actions may be NaN). An observation with no finite candidate at
// all has nothing to learn from: its mean/std stay as they were and it acts from them.
import type { Engine, F32 } from '../engine/engine.js';
import { RngStream, normalAt as normalAtCounter, uniformAt as uniformAtCounter } from '../engine/rng.js';
import { randomHeadPair } from './head-pair.js';

/** The score a NaN/Inf candidate gets: below every finite score, so it is never preferred. */
const NON_FINITE_SCORE = Math.fround(-1e30);

/** The inference surface of the world model the planner needs (all outputs overwrite). */
export interface PlannerModel {
  readonly latentDim: number;
  readonly actionDim: number;
  /** 'Q' models score the final latent with Q(z_H, pi(z_H)); 'V' models with V(z_H). */
  readonly valueForm: 'Q' | 'V';
  /** Value heads in the ensemble. */
  readonly numQ: number;
  encode(R: number, obs: F32, obsOff: number, z: F32, zOff: number): void;
  next(R: number, z: F32, zOff: number, a: F32, aOff: number, zNext: F32, zNextOff: number): void;
  /** Decoded scalar reward per row (mean over reward heads). */
  reward(R: number, z: F32, zOff: number, a: F32, aOff: number, out: F32, outOff: number): void;
  /** Decoded scalar value per row, mean over the given heads (null: all); a is ignored by V models. */
  value(
    R: number, z: F32, zOff: number, a: F32 | null, aOff: number, out: F32, outOff: number, target: boolean,
    heads: readonly number[] | null,
  ): void;
  /** Policy-prior action per row: sampled (counter-based noise) or the deterministic mean action. */
  policyAction(R: number, z: F32, zOff: number, action: F32, actionOff: number, seed: number, counter: number, sample: boolean): void;
  /**
   * Models with a termination head (episodic tasks): termination logits per row. The planner then
   * stops a candidate's rewards and bootstrap once its latent is predicted terminal (tdmpc2's
   * _estimate_value with cfg.episodic: logit > 0, i.e. probability > 0.5, latches the flag).
   */
  terminationLogit?(R: number, z: F32, zOff: number, out: F32, outOff: number): void;
}

export interface PlannerOptions {
  horizon: number;
  iterations: number;
  numSamples: number;
  numElites: number;
  numPiTrajs: number;
  minStd: number;
  maxStd: number;
  temperature: number;
  discount: number;
  /** Score terminal values with the EMA target value network. */
  emaValue: boolean;
  /**
   * Q models' terminal value: the average of 2 random heads, drawn per iteration (tdmpc2's
   * Q(..., return_type='avg')), or the mean over all heads. V models always take the mean.
   */
  qEstimate: 'avg2' | 'mean';
  /** Std of Gaussian noise added to policy-prior actions (TD-MPC2 option). */
  policySeedNoise: number;
  /** Store the chosen elite's first action (before exploration noise; BMPC) as the expert mean. */
  expertMeanFromAction: boolean;
  /**
   * Which elite an evaluation acts with: a draw by the elite weights like in training (tdmpc2's
   * _plan samples in eval mode too and only drops the noise) or the highest-valued one (BMPC).
   */
  evalElite: 'sample' | 'best';
}

export interface PlanOutputs {
  /** Chosen actions [B, A]. */
  action: F32;
  /** Expert distribution of the first step: mean [B, A], std [B, A]. */
  expertMean: F32;
  expertStd: F32;
  /** Mean elite value per observation [B] (planner statistic). */
  eliteValue: F32;
}

/**
 * Output buffers for up to maxBatch observations, handed out as views of exactly B rows: callers
 * pass them on as they are (VectorEnv.step checks their length), also when B < maxBatch (an
 * evaluation of eval_episodes < num_envs, acting beside a larger evaluation batch). A view is made
 * once per batch size, so planning allocates nothing in the steady state.
 */
export class PlanOutputBuffers {
  private readonly full: PlanOutputs;
  private readonly views: (PlanOutputs | undefined)[] = [];

  constructor(readonly maxBatch: number, readonly actionDim: number) {
    const n = maxBatch * actionDim;
    this.full = {
      action: new Float32Array(n), expertMean: new Float32Array(n), expertStd: new Float32Array(n), eliteValue: new Float32Array(maxBatch),
    };
  }

  /** Views of the first B rows (overwritten by the next plan that uses them). */
  forBatch(B: number): PlanOutputs {
    let v = this.views[B];
    if (v === undefined) {
      if (!Number.isInteger(B) || B < 1 || B > this.maxBatch) throw new RangeError(`plan outputs: batch ${B} outside [1, ${this.maxBatch}]`);
      const n = B * this.actionDim;
      const f = this.full;
      v = { action: f.action.subarray(0, n), expertMean: f.expertMean.subarray(0, n), expertStd: f.expertStd.subarray(0, n), eliteValue: f.eliteValue.subarray(0, B) };
      this.views[B] = v;
    }
    return v;
  }
}

export class MppiPlanner {
  readonly opts: PlannerOptions;
  private readonly P: number; // candidates per observation
  private readonly z0: F32; // [B, Z]
  private readonly zInit: F32; // [B*P, Z] z0 of each observation broadcast to its P candidates (read-only while scoring)
  private readonly zA: F32; // [B*P, Z] current latent of every candidate
  private readonly zB: F32; // [B*P, Z] next latent (ping-pong)
  private readonly actions: F32; // [H, B*P, A] candidate sequences
  private readonly noise: F32; // [H, B*S, A]
  private readonly reward: F32; // [B*P]
  private readonly values: F32; // [B*P]
  private readonly piValues: F32; // [B*Pi] cached scores of the policy-prior sequences
  private readonly termAction: F32; // [B*P, A] pi(z_H) for Q models
  /** Episodic models: 1 once a candidate's rollout is predicted terminal, and the step's logits. */
  private readonly terminated: Uint8Array | null; // [B*P]
  private readonly termLogit: F32 | null; // [B*P]
  private readonly mean: F32; // [B, H, A]
  private readonly std: F32; // [B, H, A]
  private readonly prevMean: F32; // [B, H, A] warm start
  private readonly hasPrev: Uint8Array; // [B]
  private readonly eliteIdx: Int32Array; // [B, E]
  private readonly eliteW: Float64Array; // [B, E]
  private readonly order: Int32Array; // [P] scratch for top-k
  private readonly outputs: PlanOutputBuffers;
  /** Candidates whose score was NaN/Inf (ranked last, never chosen as elites when others exist). */
  nonFiniteScores = 0;
  /** Planner randomness; its state is part of a checkpoint. */
  readonly rng: RngStream;

  constructor(
    private readonly engine: Engine,
    private readonly model: PlannerModel,
    opts: PlannerOptions,
    readonly maxBatch: number,
    seed: number,
  ) {
    if (opts.numElites > opts.numSamples + opts.numPiTrajs) {
      throw new RangeError(`planner: num_elites (${opts.numElites}) must be <= num_samples + num_pi_trajs (${opts.numSamples + opts.numPiTrajs})`);
    }
    this.opts = { ...opts };
    const { horizon: H, numSamples: S, numPiTrajs: Pi, numElites: E } = opts;
    const Z = model.latentDim;
    const A = model.actionDim;
    const B = maxBatch;
    const P = (this.P = Pi + S);
    this.z0 = new Float32Array(B * Z);
    this.zInit = new Float32Array(B * P * Z);
    this.zA = new Float32Array(B * P * Z);
    this.zB = new Float32Array(B * P * Z);
    this.actions = new Float32Array(H * B * P * A);
    this.noise = new Float32Array(H * B * S * A);
    this.reward = new Float32Array(B * P);
    this.values = new Float32Array(B * P);
    this.piValues = new Float32Array(B * Math.max(1, Pi));
    this.termAction = new Float32Array(B * P * A);
    this.terminated = model.terminationLogit ? new Uint8Array(B * P) : null;
    this.termLogit = model.terminationLogit ? new Float32Array(B * P) : null;
    this.mean = new Float32Array(B * H * A);
    this.std = new Float32Array(B * H * A);
    this.prevMean = new Float32Array(B * H * A);
    this.hasPrev = new Uint8Array(B);
    this.eliteIdx = new Int32Array(B * E);
    this.eliteW = new Float64Array(B * E);
    this.order = new Int32Array(P);
    this.outputs = new PlanOutputBuffers(B, A);
    this.rng = new RngStream(seed);
  }

  /** Forget the warm start of observation b (call when its episode ends). */
  resetWarmStart(b: number): void {
    this.hasPrev[b] = 0;
  }

  resetAllWarmStarts(): void {
    this.hasPrev.fill(0);
  }

  /** Warm-start state for checkpoints: [B, H, A] means and flags. */
  warmStartState(): { prevMean: F32; hasPrev: Uint8Array } {
    return { prevMean: this.prevMean, hasPrev: this.hasPrev };
  }

  /**
   * Plans for B observations obs [B, obsDim] (from obsOff). eval: greedy action, no noise.
   * useWarmStart=false plans from scratch and does not touch the warm-start state (reanalysis).
   * Returns views of exactly B rows (overwritten by the next call).
   */
  plan(B: number, obs: F32, obsOff: number, evalMode: boolean, useWarmStart = true): PlanOutputs {
    if (B < 1 || B > this.maxBatch) throw new RangeError(`planner: batch ${B} outside [1, ${this.maxBatch}]`);
    const { horizon: H, iterations, numSamples: S, numPiTrajs: Pi, numElites: E } = this.opts;
    const { minStd, maxStd, temperature } = this.opts;
    const eng = this.engine;
    const m = this.model;
    const Z = m.latentDim;
    const A = m.actionDim;
    const P = this.P;
    const R = B * P;

    m.encode(B, obs, obsOff, this.z0, 0);
    this.broadcastLatents(B);

    // Policy-prior sequences: [H, B*Pi, A] stored into the first Pi candidates of each observation.
    if (Pi > 0) this.rolloutPolicyPrior(B);

    // Initial distribution: warm start from the previous plan shifted by one step.
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < H; t++) {
        for (let k = 0; k < A; k++) {
          const i = (b * H + t) * A + k;
          this.mean[i] = useWarmStart && this.hasPrev[b] && t < H - 1 ? this.prevMean[(b * H + t + 1) * A + k] : 0;
          this.std[i] = maxStd;
        }
      }
    }

    let maxElite = 0;
    for (let it = 0; it < iterations; it++) {
      // Gaussian candidates j >= Pi: clamp(mean + std * eps, -1, 1).
      eng.randomNormal(H * B * S * A, this.rng.seed, this.rng.take(H * B * S * A), 0, 1, this.noise, 0);
      for (let t = 0; t < H; t++) {
        for (let b = 0; b < B; b++) {
          const mBase = (b * H + t) * A;
          for (let j = 0; j < S; j++) {
            const dst = (t * R + b * P + Pi + j) * A;
            const src = (t * B * S + b * S + j) * A;
            for (let k = 0; k < A; k++) {
              const v = this.mean[mBase + k] + this.std[mBase + k] * this.noise[src + k];
              this.actions[dst + k] = v < -1 ? -1 : v > 1 ? 1 : v;
            }
          }
        }
      }
      // Score every candidate (policy-prior scores are reused after the first iteration).
      this.estimateValues(B, it === 0 || Pi === 0);

      // Elites and the refit of mean/std, per observation.
      for (let b = 0; b < B; b++) {
        this.selectElites(b, E);
        if (this.noFiniteCandidate(b)) continue; // keep the prior mean/std: nothing to refit from
        const eBase = b * E;
        maxElite = -Infinity;
        for (let e = 0; e < E; e++) maxElite = Math.max(maxElite, this.values[b * P + this.eliteIdx[eBase + e]]);
        let wSum = 0;
        for (let e = 0; e < E; e++) {
          const w = Math.exp(temperature * (this.values[b * P + this.eliteIdx[eBase + e]] - maxElite));
          this.eliteW[eBase + e] = w;
          wSum += w;
        }
        for (let e = 0; e < E; e++) this.eliteW[eBase + e] /= wSum;
        for (let t = 0; t < H; t++) {
          for (let k = 0; k < A; k++) {
            let mu = 0;
            for (let e = 0; e < E; e++) {
              const w = this.eliteW[eBase + e];
              if (w === 0) continue;
              mu += w * this.actions[(t * R + b * P + this.eliteIdx[eBase + e]) * A + k];
            }
            let vr = 0;
            for (let e = 0; e < E; e++) {
              const w = this.eliteW[eBase + e];
              if (w === 0) continue;
              const d = this.actions[(t * R + b * P + this.eliteIdx[eBase + e]) * A + k] - mu;
              vr += w * d * d;
            }
            const sd = Math.sqrt(vr);
            const i = (b * H + t) * A + k;
            this.mean[i] = mu;
            this.std[i] = sd < minStd ? minStd : sd > maxStd ? maxStd : sd;
          }
        }
      }
    }

    // Final action per observation.
    const out = this.outputs.forBatch(B);
    const noiseCounter = this.rng.take(B * A + B);
    for (let b = 0; b < B; b++) {
      const eBase = b * E;
      // No finite candidate: act from the distribution the plan started with (warm start or 0,
      // max_std), which is also the expert; no elite's actions are read (they may be NaN).
      const blind = this.noFiniteCandidate(b);
      let chosen = 0;
      if (blind) {
        out.eliteValue[b] = NON_FINITE_SCORE;
      } else if (evalMode && this.opts.evalElite === 'best') {
        let best = -Infinity;
        for (let e = 0; e < E; e++) {
          const v = this.values[b * P + this.eliteIdx[eBase + e]];
          if (v > best) { best = v; chosen = e; }
        }
      } else {
        // Categorical over the elite weights, with one uniform per observation.
        const u = uniformAtCounter(this.rng.seed, noiseCounter + B * A + b);
        let acc = 0;
        chosen = -1;
        for (let e = 0; e < E; e++) {
          acc += this.eliteW[eBase + e];
          if (u < acc) { chosen = e; break; }
        }
        // u beyond the rounded sum: the last elite with weight (a zero-weight one may hold NaN actions).
        if (chosen < 0) for (let e = E - 1; e >= 0 && chosen < 0; e--) if (this.eliteW[eBase + e] > 0) chosen = e;
      }
      if (!blind) {
        let meanValue = 0;
        for (let e = 0; e < E; e++) meanValue += this.eliteW[eBase + e] * this.values[b * P + this.eliteIdx[eBase + e]];
        out.eliteValue[b] = meanValue;
      }
      const row = b * P + this.eliteIdx[eBase + chosen];
      for (let k = 0; k < A; k++) {
        const i0 = (b * H) * A + k; // first step of mean/std
        const elite = blind ? this.mean[i0] : this.actions[row * A + k];
        let a = elite;
        if (!evalMode) a += this.std[i0] * normalAtCounter(this.rng.seed, noiseCounter + b * A + k);
        a = a < -1 ? -1 : a > 1 ? 1 : a;
        out.action[b * A + k] = a;
        out.expertMean[b * A + k] = this.opts.expertMeanFromAction ? elite : this.mean[i0];
        out.expertStd[b * A + k] = this.std[i0];
      }
      if (useWarmStart) {
        this.prevMean.set(this.mean.subarray(b * H * A, (b + 1) * H * A), b * H * A);
        this.hasPrev[b] = 1;
      }
    }
    return out;
  }

  /** Whether every candidate of observation b scored NaN/Inf in the last iteration (elites are sorted best first). */
  private noFiniteCandidate(b: number): boolean {
    return this.values[b * this.P + this.eliteIdx[b * this.opts.numElites]] === NON_FINITE_SCORE;
  }

  /** Rolls the policy prior from z0 for H steps; writes its actions into candidates j < Pi. */
  private rolloutPolicyPrior(B: number): void {
    const { horizon: H, numPiTrajs: Pi, policySeedNoise } = this.opts;
    const m = this.model;
    const Z = m.latentDim;
    const A = m.actionDim;
    const P = this.P;
    const R = B * P;
    const rows = B * Pi;
    // Latents of the policy rollout live in zA/zB rows [0, B*Pi) (scratch here, overwritten later).
    // (rows [b*P, b*P + Pi) of zInit all hold z0[b])
    for (let b = 0; b < B; b++) this.engine.copy(Pi * Z, this.zInit, b * P * Z, this.zA, b * Pi * Z);
    let zCur = this.zA;
    let zNext = this.zB;
    const piAct = this.termAction; // [B*Pi, A] scratch
    for (let t = 0; t < H; t++) {
      m.policyAction(rows, zCur, 0, piAct, 0, this.rng.seed, this.rng.take(rows * A * 2), true);
      if (policySeedNoise > 0) {
        const c = this.rng.take(rows * A);
        for (let i = 0; i < rows * A; i++) {
          const v = piAct[i] + policySeedNoise * normalAtCounter(this.rng.seed, c + i);
          piAct[i] = v < -1 ? -1 : v > 1 ? 1 : v;
        }
      }
      for (let b = 0; b < B; b++) {
        this.engine.copy(Pi * A, piAct, b * Pi * A, this.actions, (t * R + b * P) * A);
      }
      if (t < H - 1) {
        m.next(rows, zCur, 0, piAct, 0, zNext, 0);
        const tmp = zCur; zCur = zNext; zNext = tmp;
      }
    }
  }

  /** zInit rows [b*P, (b+1)*P) = z0[b]: one row, then doubling copies (log2(P) engine calls per observation). */
  private broadcastLatents(B: number): void {
    const Z = this.model.latentDim;
    const P = this.P;
    for (let b = 0; b < B; b++) {
      const base = b * P * Z;
      this.engine.copy(Z, this.z0, b * Z, this.zInit, base);
      for (let k = 1; k < P; k *= 2) this.engine.copy(Math.min(k, P - k) * Z, this.zInit, base, this.zInit, base + k * Z);
    }
  }

  /**
   * values[b*P + j] = Σ_t γ^t r_t + γ^H V(z_H) for every candidate. The policy-prior sequences do not
   * change between iterations: unless scorePolicy (or this iteration draws its value heads), their
   * rows are not recomputed (the model runs on the Gaussian rows [b*P + Pi, (b+1)*P) only, one range
   * per observation) and keep their first score.
   * Rows are independent in every model call, so skipping rows does not change the others' values.
   */
  private estimateValues(B: number, scorePolicy: boolean): void {
    const Pi = this.opts.numPiTrajs;
    const P = this.P;
    const R = B * P;
    this.values.fill(0, 0, R);
    // Q models draw the terminal policy action from one counter block for all R rows (row r uses
    // counters from base + r·A), whichever rows are scored.
    const m = this.model;
    const qCounter = m.valueForm === 'Q' ? this.rng.take(R * m.actionDim * 2) : 0;
    // avg2: one pair of heads for all rows of this iteration. The cached policy-prior scores came
    // from another pair, so those rows are scored again (tdmpc2 scores them in every iteration).
    let heads: [number, number] | null = null;
    if (m.valueForm === 'Q' && this.opts.qEstimate === 'avg2' && m.numQ > 2) {
      const c = this.rng.take(2);
      heads = randomHeadPair(m.numQ, uniformAtCounter(this.rng.seed, c), uniformAtCounter(this.rng.seed, c + 1));
    }
    const scorePi = scorePolicy || heads !== null;
    if (scorePi || Pi === 0) {
      this.scoreRows(0, R, R, qCounter, heads);
    } else {
      for (let b = 0; b < B; b++) this.scoreRows(b * P + Pi, P - Pi, R, qCounter, heads);
    }
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < Pi; j++) {
        if (scorePi) this.piValues[b * Pi + j] = this.values[b * P + j];
        else this.values[b * P + j] = this.piValues[b * Pi + j];
      }
    }
  }

  /** Scores candidate rows [r0, r0 + n) of the R = B*P rows (values must be zeroed there). */
  private scoreRows(r0: number, n: number, R: number, qCounter: number, heads: readonly number[] | null): void {
    const { horizon: H, discount, emaValue } = this.opts;
    const m = this.model;
    const Z = m.latentDim;
    const A = m.actionDim;
    // The first step reads the broadcast z0 (never written); later steps ping-pong zA / zB.
    let zCur = this.zInit;
    let zNext = this.zA;
    const spare = this.zB;
    let g = 1;
    const term = this.terminated;
    if (term) term.fill(0, r0, r0 + n);
    for (let t = 0; t < H; t++) {
      const aOff = (t * R + r0) * A;
      m.reward(n, zCur, r0 * Z, this.actions, aOff, this.reward, r0);
      m.next(n, zCur, r0 * Z, this.actions, aOff, zNext, r0 * Z);
      if (term) for (let i = r0; i < r0 + n; i++) { if (!term[i]) this.values[i] += g * this.reward[i]; }
      else for (let i = r0; i < r0 + n; i++) this.values[i] += g * this.reward[i];
      g *= discount;
      if (term) {
        m.terminationLogit!(n, zNext, r0 * Z, this.termLogit!, r0);
        for (let i = r0; i < r0 + n; i++) if (this.termLogit![i] > 0) term[i] = 1;
      }
      const prev = zCur;
      zCur = zNext;
      zNext = prev === this.zInit ? spare : prev;
    }
    if (m.valueForm === 'Q') {
      m.policyAction(n, zCur, r0 * Z, this.termAction, r0 * A, this.rng.seed, qCounter + r0 * A, true);
    }
    m.value(n, zCur, r0 * Z, this.termAction, r0 * A, this.reward, r0, emaValue, heads);
    for (let i = r0; i < r0 + n; i++) {
      const v = term && term[i] ? this.values[i] : this.values[i] + g * this.reward[i];
      // A NaN/Inf score (diverged model) must not win the elite selection: count it and rank it last.
      if (Number.isFinite(v)) this.values[i] = v;
      else { this.values[i] = NON_FINITE_SCORE; this.nonFiniteScores++; }
    }
  }

  /** eliteIdx[b, :] = indices (within observation b's P candidates) of the E highest values. */
  private selectElites(b: number, E: number): void {
    const P = this.P;
    const base = b * P;
    const order = this.order;
    for (let j = 0; j < P; j++) order[j] = j;
    // Partial selection sort is O(P·E); a full sort of P=536 indices is cheaper in practice.
    const vals = this.values;
    order.sort((x, y) => vals[base + y] - vals[base + x] || x - y);
    for (let e = 0; e < E; e++) this.eliteIdx[b * E + e] = order[e];
  }
}
