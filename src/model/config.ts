// World-model configuration: one typed schema, a default and a doc line per field (CleanRL `Args`),
// tdmpc2's model-size presets, and the closed-form parameter count.
//
// Network shapes (Z = latentDim, A = actionDim, NB = numBins; NL = NormedLinear, Lin = Linear):
//   encoder      obs -> NL(encDim, mish) x max(numEncLayers-1, 1) -> NL(Z, SimNorm)
//   dynamics     [numDynamicsHeads] z⊕a -> NL(mlpDim) x 2 -> NL(Z) -> (+ priorScale·prior) -> SimNorm
//   prior        [numDynamicsHeads, frozen, only if priorScale > 0] z⊕a -> NL(mlpDim/16) x 2 -> Lin(Z)
//   reward       [numRewardHeads] z⊕a -> NL(mlpDim) x numRewardLayers -> Lin(NB), zero-init output
//   value        [numQ] z (V) or z⊕a (Q) -> NL(mlpDim, dropout) x 2 -> Lin(NB), zero-init output
//   policy       z -> NL(mlpDim) x 2 -> Lin(2A)  (mean | log_std raw, see policy-head.ts)
//   termination  [optional] z -> NL(mlpDim) x 2 -> Lin(1) (a logit)
import { ConfigError } from '../errors.js';
import type { InitScheme } from '../nn/mlp.js';

export type ValueForm = 'V' | 'Q';
export type PolicyForm = 'tdmpc2' | 'bmpc';

export interface WorldModelConfig {
  /** Observation size (state vector). */
  obsDim: number;
  /** Action size; actions live in [-1, 1]. */
  actionDim: number;
  /** Latent size Z; a multiple of simnormDim. */
  latentDim: number;
  /** Encoder hidden width. */
  encDim: number;
  /** Hidden width of dynamics, reward, value, policy and termination MLPs. */
  mlpDim: number;
  /** Encoder depth: max(numEncLayers - 1, 1) hidden layers plus the latent layer (tdmpc2). */
  numEncLayers: number;
  /** Value/Q ensemble size (tdmpc2 num_q). */
  numQ: number;
  /** Two-hot bins of the reward and value heads. */
  numBins: number;
  /** Range of the bins in symlog space. */
  vmin: number;
  vmax: number;
  /** SimNorm group size (simplex dimension). */
  simnormDim: number;
  /** Dropout probability in the value heads (training mode only). */
  dropout: number;
  /** Which value hidden layers get dropout: 'first' (tdmpc2's mlp) or 'all' (BMPC). */
  valueDropoutLayers: 'first' | 'all';
  /** Where value layers apply dropout: before LayerNorm (TD-MPC2) or after the activation (bmpc-jax). */
  valueDropoutPosition: 'before_norm' | 'after_act';
  /** 'V': V(s), input z (BMPC); 'Q': Q(s,a), input z ⊕ a (TD-MPC2). */
  valueForm: ValueForm;
  /** Policy parameterization, see policy-head.ts. */
  policyForm: PolicyForm;
  /** log_std range; defaults -10..2 (tdmpc2) or -5..1 (bmpc) by policyForm. */
  logStdMin: number;
  logStdMax: number;
  /** Reward ensemble size and hidden layers per reward head. */
  numRewardHeads: number;
  numRewardLayers: number;
  /** Dynamics heads; each may carry a frozen random prior network. */
  numDynamicsHeads: number;
  /** Scale of the frozen prior added to each dynamics head's pre-SimNorm output; 0 = no priors. */
  priorScale: number;
  /** Adds a termination head (one logit). */
  termination: boolean;
  /**
   * Weight init (biases 0): tdmpc2's PyTorch trunc_normal_(std 0.02), bmpc-jax's JAX
   * truncated_normal(0.02), or PyTorch's nn.Linear default (see nn/mlp.ts linearInit).
   */
  init: InitScheme;
}

/** tdmpc2's model-size presets (config.yaml `model_size`), in millions of parameters (multi-task). */
export const MODEL_SIZES = {
  1: { encDim: 256, mlpDim: 384, latentDim: 128, numEncLayers: 2, numQ: 2 },
  5: { encDim: 256, mlpDim: 512, latentDim: 512, numEncLayers: 2, numQ: 5 },
  19: { encDim: 1024, mlpDim: 1024, latentDim: 768, numEncLayers: 3, numQ: 5 },
  48: { encDim: 1792, mlpDim: 1792, latentDim: 768, numEncLayers: 4, numQ: 5 },
  317: { encDim: 4096, mlpDim: 4096, latentDim: 1376, numEncLayers: 5, numQ: 8 },
} as const;

export type ModelSize = keyof typeof MODEL_SIZES;
export const MODEL_SIZE_NAMES = Object.keys(MODEL_SIZES).map(Number) as ModelSize[];

export function modelSizePreset(size: number | string): (typeof MODEL_SIZES)[ModelSize] {
  // Strings are the preset's digits, optionally with M ('5', '5M'); not '0x5' or '5e0'.
  const key = typeof size === 'string' ? (/^\d+M?$/i.test(size) ? Number(size.replace(/M$/i, '')) : NaN) : size;
  if (!Object.prototype.hasOwnProperty.call(MODEL_SIZES, String(key))) {
    throw new ConfigError(`model_size '${size}' is not a preset; valid sizes: ${MODEL_SIZE_NAMES.join(', ')}`);
  }
  return MODEL_SIZES[key as ModelSize];
}

export type WorldModelConfigInput = Partial<WorldModelConfig> & {
  obsDim: number;
  actionDim: number;
  /** A tdmpc2 preset for encDim/mlpDim/latentDim/numEncLayers/numQ (explicit fields win). Default 5. */
  modelSize?: number | string;
};

/** Fills defaults (the one place where derived values are computed) and validates every field. */
export function makeWorldModelConfig(input: WorldModelConfigInput): WorldModelConfig {
  const preset = modelSizePreset(input.modelSize ?? 5);
  const policyForm = input.policyForm ?? 'tdmpc2';
  const cfg: WorldModelConfig = {
    obsDim: input.obsDim,
    actionDim: input.actionDim,
    latentDim: input.latentDim ?? preset.latentDim,
    encDim: input.encDim ?? preset.encDim,
    mlpDim: input.mlpDim ?? preset.mlpDim,
    numEncLayers: input.numEncLayers ?? preset.numEncLayers,
    numQ: input.numQ ?? preset.numQ,
    numBins: input.numBins ?? 101,
    vmin: input.vmin ?? -10,
    vmax: input.vmax ?? 10,
    simnormDim: input.simnormDim ?? 8,
    dropout: input.dropout ?? 0.01,
    valueDropoutLayers: input.valueDropoutLayers ?? 'first',
    valueDropoutPosition: input.valueDropoutPosition ?? 'before_norm',
    valueForm: input.valueForm ?? 'Q',
    policyForm,
    logStdMin: input.logStdMin ?? (policyForm === 'bmpc' ? -5 : -10),
    logStdMax: input.logStdMax ?? (policyForm === 'bmpc' ? 1 : 2),
    numRewardHeads: input.numRewardHeads ?? 1,
    numRewardLayers: input.numRewardLayers ?? 2,
    numDynamicsHeads: input.numDynamicsHeads ?? 1,
    priorScale: input.priorScale ?? 0,
    termination: input.termination ?? false,
    init: input.init ?? 'trunc_normal',
  };
  validateWorldModelConfig(cfg);
  return cfg;
}

function positiveInt(cfg: WorldModelConfig, key: keyof WorldModelConfig): void {
  const v = cfg[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ConfigError(`world model ${key} must be a positive integer, got ${String(v)}`);
  }
}

function oneOf(cfg: WorldModelConfig, key: keyof WorldModelConfig, values: readonly unknown[]): void {
  if (!values.includes(cfg[key])) {
    throw new ConfigError(`world model ${key} must be one of ${values.map((v) => `'${String(v)}'`).join(', ')}, got '${String(cfg[key])}'`);
  }
}

export function validateWorldModelConfig(cfg: WorldModelConfig): void {
  for (const k of ['obsDim', 'actionDim', 'latentDim', 'encDim', 'mlpDim', 'numEncLayers', 'numQ', 'simnormDim',
    'numRewardHeads', 'numRewardLayers', 'numDynamicsHeads'] as const) positiveInt(cfg, k);
  if (!Number.isInteger(cfg.numBins) || cfg.numBins < 2) throw new ConfigError(`world model numBins must be an integer >= 2, got ${cfg.numBins}`);
  if (!(cfg.vmin < cfg.vmax) || !Number.isFinite(cfg.vmin) || !Number.isFinite(cfg.vmax)) {
    throw new ConfigError(`world model needs finite vmin < vmax (the symlog range of the two-hot bins), got ${cfg.vmin} and ${cfg.vmax}`);
  }
  if (cfg.latentDim % cfg.simnormDim !== 0) {
    throw new ConfigError(`world model latentDim ${cfg.latentDim} must be a multiple of simnormDim ${cfg.simnormDim}`);
  }
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new ConfigError(`world model dropout must be in [0, 1), got ${cfg.dropout}`);
  if (!(cfg.logStdMin < cfg.logStdMax) || !Number.isFinite(cfg.logStdMin) || !Number.isFinite(cfg.logStdMax)) {
    throw new ConfigError(`world model needs finite logStdMin < logStdMax, got ${cfg.logStdMin} and ${cfg.logStdMax}`);
  }
  if (!(cfg.priorScale >= 0) || !Number.isFinite(cfg.priorScale)) throw new ConfigError(`world model priorScale must be >= 0, got ${cfg.priorScale}`);
  if (typeof cfg.termination !== 'boolean') throw new ConfigError(`world model termination must be true or false, got ${String(cfg.termination)}`);
  oneOf(cfg, 'valueForm', ['V', 'Q']);
  oneOf(cfg, 'policyForm', ['tdmpc2', 'bmpc']);
  oneOf(cfg, 'valueDropoutLayers', ['first', 'all']);
  oneOf(cfg, 'valueDropoutPosition', ['before_norm', 'after_act']);
  oneOf(cfg, 'init', ['trunc_normal', 'trunc_normal_jax', 'torch']);
}

/** Width of the frozen prior networks' hidden layers (tdmpc2 prior_hidden_div = 16). */
export function priorHidden(cfg: WorldModelConfig): number {
  return Math.max(1, Math.floor(cfg.mlpDim / 16));
}

// ---------------------------------------------------------------- parameter counts
const normed = (i: number, o: number): number => i * o + 3 * o; // W, b, LayerNorm gamma, beta
const linear = (i: number, o: number): number => i * o + o;

function mlpCount(inDim: number, hidden: number[], outDim: number, normedOut: boolean): number {
  let n = 0;
  let d = inDim;
  for (const h of hidden) {
    n += normed(d, h);
    d = h;
  }
  return n + (normedOut ? normed(d, outDim) : linear(d, outDim));
}

export interface ParamCount {
  encoder: number;
  dynamics: number;
  reward: number;
  value: number;
  policy: number;
  termination: number;
  /** Frozen prior networks (not trained, not in `trainable`). */
  prior: number;
  trainable: number;
  total: number;
}

/** Closed-form parameter count of a world model (the EMA value target is not counted). */
export function countParams(cfg: WorldModelConfig): ParamCount {
  const Z = cfg.latentDim;
  const A = cfg.actionDim;
  const M = cfg.mlpDim;
  const encoder = mlpCount(cfg.obsDim, new Array<number>(Math.max(cfg.numEncLayers - 1, 1)).fill(cfg.encDim), Z, true);
  const dynamics = cfg.numDynamicsHeads * mlpCount(Z + A, [M, M], Z, true);
  const ph = priorHidden(cfg);
  const prior = cfg.priorScale > 0 ? cfg.numDynamicsHeads * mlpCount(Z + A, [ph, ph], Z, false) : 0;
  const reward = cfg.numRewardHeads * mlpCount(Z + A, new Array<number>(cfg.numRewardLayers).fill(M), cfg.numBins, false);
  const value = cfg.numQ * mlpCount(Z + (cfg.valueForm === 'Q' ? A : 0), [M, M], cfg.numBins, false);
  const policy = mlpCount(Z, [M, M], 2 * A, false);
  const termination = cfg.termination ? mlpCount(Z, [M, M], 1, false) : 0;
  const trainable = encoder + dynamics + reward + value + policy + termination;
  return { encoder, dynamics, reward, value, policy, termination, prior, trainable, total: trainable + prior };
}

/** Trainable parameter count of every preset for the given observation/action sizes. */
export function presetParamCounts(
  obsDim: number, actionDim: number, overrides: Partial<WorldModelConfig> = {},
): Record<ModelSize, number> {
  const out = {} as Record<ModelSize, number>;
  for (const size of MODEL_SIZE_NAMES) {
    out[size] = countParams(makeWorldModelConfig({ ...overrides, obsDim, actionDim, modelSize: size })).trainable;
  }
  return out;
}
