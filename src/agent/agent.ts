// The agent: world model + planners + update, and the state a checkpoint needs (tdmpc2.py's
// act / plan / update, split so each concept has its own file: mppi.ts, update.ts, world model).
// The synchronous trainer and the threaded runtime's actors/learner use this same class.
//
// Planners: one for training actions (warm-started per environment), one for evaluation
// (greedy, its own warm starts and RNG, so evaluating never perturbs training), one for lazy
// reanalysis (no warm start). They share the world model's parameters.
import type { Config } from '../config/schema.js';
import type { Derived } from '../config/derive.js';
import type { Engine, F32 } from '../engine/engine.js';
import { RngStream, normalAt } from '../engine/rng.js';
import { WorldModel } from '../model/world-model.js';
import { makeWorldModelConfig, type WorldModelConfig } from '../model/config.js';
import type { ReplayBatch, ReplayBuffer } from '../replay/replay-buffer.js';
import { CheckpointError } from '../errors.js';
import { MppiPlanner, PlanOutputBuffers, type PlanOutputs, type PlannerOptions } from './mppi.js';
import { WorldModelPlanner } from './planner-model.js';
import { Updater, updateOptionsFromConfig } from './update.js';

type Section = Float32Array | Float64Array | Int32Array | Uint8Array | Uint32Array;

export class Agent {
  readonly model: WorldModel;
  readonly updater: Updater;
  readonly plannerModel: WorldModelPlanner;
  readonly planner: MppiPlanner;
  readonly evalPlanner: MppiPlanner;
  private reanalyzePlanner: MppiPlanner | null = null;
  /** Scalars of the latest update / reanalysis / planning (for metrics.jsonl). */
  readonly lastMetrics: Record<string, number> = {};
  private readonly piRng: RngStream;
  private readonly z: F32; // [maxBatch, Z]
  private readonly piOutputs: PlanOutputBuffers; // policy-only acting
  private readonly reanObs: F32; // [rows, O] observations to re-plan
  private readonly reanRows: Int32Array; // [rows] batch row (t·B + b) of each
  reanalyzedTotal = 0;
  /** Policy-prior actions (rows) that came out NaN/Inf and were replaced by the fallback, by use. */
  readonly policyNonFiniteActions = { acting: 0, eval: 0 };

  constructor(readonly engine: Engine, readonly cfg: Config, readonly derived: Derived, readonly maxBatch: number) {
    this.model = new WorldModel(engine, worldModelConfigFor(cfg, derived), { seed: cfg.seed });
    this.updater = new Updater(engine, this.model, updateOptionsFromConfig(cfg, derived.discount));
    this.plannerModel = new WorldModelPlanner(this.model);
    const popts = plannerOptions(cfg, derived);
    this.planner = new MppiPlanner(engine, this.plannerModel, popts, Math.max(1, cfg.num_envs), (cfg.seed * 31 + 11) >>> 0);
    this.evalPlanner = new MppiPlanner(engine, this.plannerModel, popts, Math.max(1, maxBatch), (cfg.seed * 31 + 12) >>> 0);
    this.piRng = new RngStream((cfg.seed * 31 + 13) >>> 0);
    this.z = new Float32Array(Math.max(1, maxBatch) * derived.latentDim);
    this.piOutputs = new PlanOutputBuffers(Math.max(1, maxBatch), derived.actionDim);
    const reanRows = this.reanalysisRowCount();
    this.reanObs = new Float32Array(Math.max(1, reanRows) * derived.obsDim);
    this.reanRows = new Int32Array(Math.max(1, reanRows));
  }

  // ---------------------------------------------------------------- acting
  /** Actions for B observations [B, O]: the planner (cfg.mpc) or the policy prior. */
  act(B: number, obs: F32, evalMode: boolean): PlanOutputs {
    if (!this.cfg.mpc) return this.policyAct(B, obs, !evalMode);
    const planner = evalMode ? this.evalPlanner : this.planner;
    const out = planner.plan(B, obs, 0, evalMode);
    if (!evalMode) {
      let v = 0;
      for (let b = 0; b < B; b++) v += out.eliteValue[b] / B;
      this.lastMetrics.plan_elite_value = v;
      let s = 0;
      for (let i = 0; i < B * this.derived.actionDim; i++) s += out.expertStd[i];
      this.lastMetrics.plan_std = s / (B * this.derived.actionDim);
      this.lastMetrics.plan_nonfinite_scores = planner.nonFiniteScores;
    }
    return out;
  }

  /** Deterministic policy-prior actions (eval_pi). */
  actPolicy(B: number, obs: F32): F32 {
    return this.policyAct(B, obs, false).action;
  }

  private policyAct(B: number, obs: F32, sample: boolean): PlanOutputs {
    const A = this.derived.actionDim;
    this.plannerModel.encode(B, obs, 0, this.z, 0);
    const o = this.piOutputs.forBatch(B);
    const noiseCounter = this.piRng.take(B * A);
    this.model.pi(B, this.z, o.expertMean, o.expertStd, o.action, this.piRng.seed, noiseCounter, { sample });
    // The expert of a policy action is the policy's own Gaussian: mean (squashed for tdmpc2's form), std.
    for (let i = 0; i < B * A; i++) {
      o.expertStd[i] = Math.exp(o.expertStd[i]);
      if (this.cfg.policy_form === 'tdmpc2') o.expertMean[i] = Math.tanh(o.expertMean[i]);
    }
    for (let b = 0; b < B; b++) if (!rowFinite(o, b * A, A)) this.policyFallback(o, b, A, sample, noiseCounter);
    return o;
  }

  /**
   * A policy row whose action or Gaussian is NaN/Inf (a diverged model, or a NaN observation) acts
   * like the planner with no finite candidate: from mean 0 and max_std (noise when acting), which
   * is also its expert. Counted, so a diverging policy shows in the metrics instead of stopping
   * the environment on a NaN action.
   */
  private policyFallback(o: PlanOutputs, b: number, A: number, sample: boolean, noiseCounter: number): void {
    const std = this.cfg.max_std;
    for (let k = 0; k < A; k++) {
      const i = b * A + k;
      const a = sample ? std * normalAt(this.piRng.seed, noiseCounter + i) : 0;
      o.action[i] = a < -1 ? -1 : a > 1 ? 1 : a;
      o.expertMean[i] = 0;
      o.expertStd[i] = std;
    }
    if (sample) this.lastMetrics.policy_nonfinite_actions = ++this.policyNonFiniteActions.acting;
    else this.policyNonFiniteActions.eval++;
  }

  /** Value of each observation under the current policy (eval_value): V(z) or Q(z, π(z)). */
  predictValue(B: number, obs: F32, out: F32): void {
    const A = this.derived.actionDim;
    this.plannerModel.encode(B, obs, 0, this.z, 0);
    const a = this.piOutputs.forBatch(B).action;
    if (this.model.cfg.valueForm === 'Q') this.model.pi(B, this.z, null, null, a, this.piRng.seed, this.piRng.take(B * A), { sample: false });
    this.plannerModel.value(B, this.z, 0, a, 0, out, 0, false, null);
  }

  /**
   * Restarts the acting streams (training planner noise, policy-prior sampling) under new seeds at
   * counter 0. The threaded runtime's actors call it so every actor thread draws its own numbers;
   * the synchronous trainer keeps the constructor's seeds (and restores their counters on resume).
   */
  seedActing(plannerSeed: number, policySeed: number): void {
    this.planner.rng.seed = plannerSeed >>> 0;
    this.planner.rng.counter = 0;
    this.piRng.seed = policySeed >>> 0;
    this.piRng.counter = 0;
  }

  resetEpisode(i: number): void {
    this.planner.resetWarmStart(i);
  }

  resetEpisodes(): void {
    this.planner.resetAllWarmStarts();
  }

  resetEvalEpisodes(): void {
    this.evalPlanner.resetAllWarmStarts();
    // Each evaluation's planning noise is a function of the evaluation, not of earlier ones.
    this.evalPlanner.rng.counter = 0;
  }

  // ---------------------------------------------------------------- learning
  update(batch: ReplayBatch, progress: number): void {
    const info = this.updater.update(batch, progress);
    for (const [k, v] of Object.entries(info)) this.lastMetrics[k] = v;
  }

  private reanalysisRowCount(): number {
    const { batch_size: B, horizon: H, reanalyze_batch_size: n, reanalyze_interval: every } = this.cfg;
    if (every === 0) return 0;
    return this.cfg.reanalyze_slice_mode ? Math.min(B, n) * (H + 1) : Math.min(B, n * (H + 1));
  }

  /**
   * Lazy reanalysis (BMPC): re-plan observations of the sampled batch with the current model and
   * write the fresh expert mean/std into the batch and back into the replay buffer.
   * Slice mode: all H+1 steps of the first reanalyze_batch_size slices; independent mode: the first
   * step of (H+1)·reanalyze_batch_size slices (the same number of planner rows).
   */
  reanalyze(batch: ReplayBatch, replay: ReplayBuffer): number {
    const rows = this.reanalysisRowCount();
    if (rows === 0) return 0;
    const { B, H } = batch;
    const O = this.derived.obsDim;
    const A = this.derived.actionDim;
    let n = 0;
    if (this.cfg.reanalyze_slice_mode) {
      const slices = rows / (H + 1);
      for (let b = 0; b < slices; b++) for (let t = 0; t <= H; t++) this.reanRows[n++] = t * B + b;
    } else {
      for (let b = 0; b < rows; b++) this.reanRows[n++] = b;
    }
    for (let i = 0; i < n; i++) this.reanObs.set(batch.obs.subarray(this.reanRows[i] * O, this.reanRows[i] * O + O), i * O);
    if (!this.reanalyzePlanner) {
      this.reanalyzePlanner = new MppiPlanner(this.engine, this.plannerModel, plannerOptions(this.cfg, this.derived), n, (this.cfg.seed * 31 + 14) >>> 0);
    }
    const out = this.reanalyzePlanner.plan(n, this.reanObs, 0, false, false);
    this.lastMetrics.reanalysis_nonfinite_scores = this.reanalyzePlanner.nonFiniteScores;
    let written = 0;
    for (let i = 0; i < n; i++) {
      const row = this.reanRows[i];
      batch.expertMean.set(out.expertMean.subarray(i * A, i * A + A), row * A);
      batch.expertStd.set(out.expertStd.subarray(i * A, i * A + A), row * A);
      const t = Math.floor(row / B);
      if (replay.writeBackExpert(batch, row - t * B, t, out.expertMean, out.expertStd, i * A)) written++;
    }
    this.reanalyzedTotal += written;
    this.lastMetrics.reanalyzed_total = this.reanalyzedTotal;
    return written;
  }

  // ---------------------------------------------------------------- checkpoints
  checkpoint(): { meta: Record<string, unknown>; sections: Record<string, Section> } {
    const u = this.updater.state();
    const warm = this.planner.warmStartState();
    return {
      meta: {
        updater: { scale: u.scale, updates: u.updates },
        plannerRng: this.planner.rng.state(),
        evalPlannerRng: this.evalPlanner.rng.state(),
        reanalyzePlannerRng: this.reanalyzePlanner?.rng.state() ?? null,
        piRng: this.piRng.state(),
        reanalyzedTotal: this.reanalyzedTotal,
        faults: this.faultTotals(),
        paramCount: this.model.params.length,
      },
      sections: {
        'model.params': this.model.params,
        'model.valueTarget': this.model.valueTarget,
        'optim.m': u.m,
        'optim.v': u.v,
        'optim.steps': u.steps,
        'planner.prevMean': warm.prevMean,
        'planner.hasPrev': warm.hasPrev,
      },
    };
  }

  restore(meta: Record<string, unknown>, sections: Record<string, Section>): void {
    const need = (name: string, length: number): Section => {
      const s = sections[name];
      if (!s) throw new CheckpointError(`checkpoint has no '${name}' section; it was written by an incompatible version`);
      if (s.length !== length) throw new CheckpointError(`checkpoint section '${name}' has ${s.length} values but this model needs ${length}; resume with the config the checkpoint was written with`);
      return s;
    };
    this.model.params.set(need('model.params', this.model.params.length) as Float32Array);
    this.model.valueTarget.set(need('model.valueTarget', this.model.valueTarget.length) as Float32Array);
    const u = this.updater.state();
    const up = meta.updater as { scale: { value: number; updates: number }; updates: number };
    this.updater.load({
      m: need('optim.m', u.m.length) as Float32Array, v: need('optim.v', u.v.length) as Float32Array,
      steps: need('optim.steps', u.steps.length) as Int32Array, scale: up.scale, updates: up.updates,
    });
    const warm = this.planner.warmStartState();
    warm.prevMean.set(need('planner.prevMean', warm.prevMean.length) as Float32Array);
    warm.hasPrev.set(need('planner.hasPrev', warm.hasPrev.length) as Uint8Array);
    const setRng = (rng: RngStream, s: unknown) => { if (s) { rng.seed = (s as { seed: number }).seed; rng.counter = (s as { counter: number }).counter; } };
    setRng(this.planner.rng, meta.plannerRng);
    setRng(this.evalPlanner.rng, meta.evalPlannerRng);
    setRng(this.piRng, meta.piRng);
    if (meta.reanalyzePlannerRng) {
      const rows = this.reanalysisRowCount();
      this.reanalyzePlanner = new MppiPlanner(this.engine, this.plannerModel, plannerOptions(this.cfg, this.derived), rows, (this.cfg.seed * 31 + 14) >>> 0);
      setRng(this.reanalyzePlanner.rng, meta.reanalyzePlannerRng);
    }
    this.reanalyzedTotal = (meta.reanalyzedTotal as number) ?? 0;
    // Fault counts continue over the run (absent in older checkpoints: 0), and lastMetrics shows
    // them from the first log line, as it did before the checkpoint.
    const f = { ...ZERO_FAULTS, ...(meta.faults as Partial<AgentFaultTotals> | undefined) };
    this.updater.nonFiniteGradsTotal = f.gradEntries;
    this.planner.nonFiniteScores = f.actingPlanScores;
    if (this.reanalyzePlanner) this.reanalyzePlanner.nonFiniteScores = f.reanalysisPlanScores;
    this.policyNonFiniteActions.acting = f.policyActions;
    this.lastMetrics.nonfinite_grads_total = f.gradEntries;
    this.lastMetrics.plan_nonfinite_scores = f.actingPlanScores;
    if (this.reanalyzePlanner) this.lastMetrics.reanalysis_nonfinite_scores = f.reanalysisPlanScores;
    if (f.policyActions > 0) this.lastMetrics.policy_nonfinite_actions = f.policyActions;
  }

  /** This agent's numeric-fault counts over the run (checkpoints carry them; evaluations count their own). */
  faultTotals(): AgentFaultTotals {
    return {
      gradEntries: this.updater.nonFiniteGradsTotal,
      actingPlanScores: this.planner.nonFiniteScores,
      reanalysisPlanScores: this.reanalyzePlanner?.nonFiniteScores ?? 0,
      policyActions: this.policyNonFiniteActions.acting,
    };
  }
}

export interface AgentFaultTotals {
  gradEntries: number;
  actingPlanScores: number;
  reanalysisPlanScores: number;
  policyActions: number;
}
const ZERO_FAULTS: AgentFaultTotals = { gradEntries: 0, actingPlanScores: 0, reanalysisPlanScores: 0, policyActions: 0 };

/**
 * Throws CheckpointError, before any work starts, when a saved model, value target, optimizer moment
 * or warm-start array (every section but the replay's) holds NaN/Inf: restoring it would plan and
 * train on NaN from the first step. Training zeroes non-finite gradients before each step, so such a
 * file was damaged or edited after it was written. `key` names the argument the file came from.
 */
export function checkSavedAgentFinite(sections: Record<string, Section>, file: string, key: string): void {
  for (const [name, values] of Object.entries(sections)) {
    if (name.startsWith('replay.') || !(values instanceof Float32Array || values instanceof Float64Array)) continue;
    let bad = 0;
    let first = -1;
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) { if (first < 0) first = i; bad++; }
    }
    if (bad > 0) {
      throw new CheckpointError(`checkpoint '${file}': section '${name}' holds ${bad} NaN/Inf values of ${values.length} (first at index ${first}), `
        + `so the agent it saved cannot plan or train; pass ${key}= an earlier checkpoint of the run (its checkpoints/ folder keeps step-<n>.ckpt files)`);
    }
  }
}

/** The world-model config of a run (also used by the threaded runtime to size its parameter snapshot). */
export function worldModelConfigFor(cfg: Config, derived: Derived): WorldModelConfig {
  return makeWorldModelConfig({
    obsDim: derived.obsDim, actionDim: derived.actionDim,
    latentDim: derived.latentDim, encDim: derived.encDim, mlpDim: derived.mlpDim,
    numEncLayers: derived.numEncLayers, numQ: derived.numQ,
    numBins: cfg.num_bins, vmin: cfg.vmin, vmax: cfg.vmax, simnormDim: cfg.simnorm_dim, dropout: cfg.dropout,
    valueDropoutLayers: cfg.algo === 'bmpc' ? 'all' : 'first',
    valueDropoutPosition: cfg.algo === 'bmpc' ? 'after_act' : 'before_norm', // bmpc-jax: Dense, LN, act, Dropout
    // Each algorithm's reference framework: PyTorch's trunc_normal_ for tdmpc2, JAX's for bmpc-jax.
    init: cfg.algo === 'bmpc' ? 'trunc_normal_jax' : 'trunc_normal',
    valueForm: cfg.value_form as 'Q' | 'V', policyForm: cfg.policy_form as 'tdmpc2' | 'bmpc',
    logStdMin: cfg.log_std_min, logStdMax: cfg.log_std_max,
    numRewardHeads: cfg.num_reward_heads, numRewardLayers: cfg.num_reward_layers,
    numDynamicsHeads: cfg.num_dynamics_heads, priorScale: cfg.prior_scale, termination: cfg.termination,
  });
}

export function plannerOptions(cfg: Config, derived: Derived): PlannerOptions {
  return {
    horizon: cfg.horizon,
    iterations: derived.iterations,
    numSamples: cfg.num_samples,
    numElites: cfg.num_elites,
    numPiTrajs: cfg.num_pi_trajs,
    minStd: cfg.min_std,
    maxStd: cfg.max_std,
    temperature: cfg.temperature,
    discount: derived.discount,
    emaValue: cfg.planner_ema_value,
    qEstimate: cfg.q_estimate as 'avg2' | 'mean',
    policySeedNoise: cfg.policy_seed_noise,
    expertMeanFromAction: cfg.expert_mean_source === 'action',
    evalElite: cfg.algo === 'bmpc' ? 'best' : 'sample',
  };
}

/** Whether action, expert mean and expert std of the A entries at off are all finite. */
function rowFinite(o: PlanOutputs, off: number, A: number): boolean {
  for (let i = off; i < off + A; i++) {
    if (!Number.isFinite(o.action[i]) || !Number.isFinite(o.expertMean[i]) || !Number.isFinite(o.expertStd[i])) return false;
  }
  return true;
}
