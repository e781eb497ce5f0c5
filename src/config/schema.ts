// The one config schema (CleanRL's `Args`, grouped like tdmpc2's config.yaml): every field has a
// type, a default and a doc line. YAML presets in configs/ and `key=value` CLI overrides are all
// validated against this table before any work starts. Derived values come from derive.ts only.

export type FieldType =
  | { kind: 'int'; min?: number; max?: number }
  | { kind: 'float'; min?: number; max?: number }
  | { kind: 'bool' }
  | { kind: 'string' }
  /** One folder name: no path separator, not '.' or '..' (it is joined into the run's path). */
  | { kind: 'folder' }
  | { kind: 'enum'; values: readonly string[] };

export interface FieldSpec {
  type: FieldType;
  default: number | boolean | string | null;
  doc: string;
  /** null allowed (e.g. "derive it"). */
  nullable?: boolean;
}

const int = (min?: number, max?: number) => ({ kind: 'int' as const, min, max });
const float = (min?: number, max?: number) => ({ kind: 'float' as const, min, max });
const bool = { kind: 'bool' as const };
const str = { kind: 'string' as const };
const folder = { kind: 'folder' as const };
const oneOf = (...values: string[]) => ({ kind: 'enum' as const, values });

/** Field table. Keys use tdmpc2's snake_case; nested groups use dots (metrics.port). */
export const SCHEMA = {
  // ---------------------------------------------------------------- environment
  task: { type: str, default: 'cartpole-swingup', doc: 'task name (see `tdmpc tasks`)' },
  task_module: { type: str, default: null, nullable: true, doc: 'JavaScript module that registers custom tasks (registerTask) when imported; every thread loads it (docs/custom-tasks.md)' },
  action_repeat: { type: int(1, 100), default: 2, doc: 'physics control steps per agent step' },
  reward_accumulation: { type: oneOf('sum', 'discounted'), default: 'sum', doc: "action-repeat reward: 'sum' (TD-MPC2) or 'discounted' (bmpc-jax: by dm_control's step discount, 1 on DMControl tasks)" },
  episode_length: { type: int(1), default: null, nullable: true, doc: 'agent steps per episode (null: the task default, 500 for DMControl)' },
  num_envs: { type: int(1, 4096), default: 1, doc: 'environments stepped together per actor (vectorized); about 140-150 fit in one thread (MuJoCo WebAssembly memory)' },

  // ---------------------------------------------------------------- run
  algo: { type: oneOf('tdmpc2', 'bmpc'), default: 'tdmpc2', doc: 'algorithm preset: configs/<algo>.yaml is applied before user overrides' },
  steps: { type: int(1, 2_000_000_000), default: 100_000, doc: 'total environment (agent) steps over all envs (the threaded runtime counts them in int32)' },
  seed: { type: int(0, 2 ** 31 - 1), default: 1, doc: 'random seed (envs, init, sampling, planning)' },
  seed_steps: { type: int(0), default: null, nullable: true, doc: 'random-action steps before training (null: derived, see seed_steps_coef); at least envs x horizon + 1, so every env holds a training slice' },
  seed_steps_coef: { type: float(0), default: 0, doc: 'if > 0, seed_steps = coef * num_envs * episode_length (leave seed_steps null); else max(1000, 5 * episode_length)' },
  pretrain_updates: { type: int(0), default: null, nullable: true, doc: 'updates run once when seeding ends (null: seed_steps for tdmpc2, 0 for bmpc)' },
  utd_ratio: { type: float(0, 1024), default: 1, doc: 'gradient updates per environment step (fractional token scheme)' },
  value_update_freq: { type: int(1), default: 1, doc: 'update the value ensemble every k updates' },
  pi_update_freq: { type: int(1), default: 1, doc: 'update the policy every k updates' },

  // ---------------------------------------------------------------- evaluation and output
  eval_freq: { type: int(1), default: 10_000, doc: 'evaluate every this many env steps' },
  eval_episodes: { type: int(0), default: 5, doc: 'episodes per evaluation (planner, greedy); 0 turns evaluation off' },
  eval_pi: { type: bool, default: false, doc: 'also evaluate the policy prior alone' },
  eval_value: { type: bool, default: false, doc: 'also report value accuracy: predicted vs realized discounted return' },
  work_dir: { type: str, default: 'runs', doc: 'output root; a run writes to <work_dir>/<task>/<algo>/<exp_name>/seed-<seed>' },
  exp_name: { type: folder, default: 'default', doc: 'experiment name (one folder under <work_dir>/<task>/<algo>: no / or \\, not . or ..)' },
  overwrite: { type: bool, default: false, doc: 'start a fresh run over a run folder that holds an earlier run, deleting its eval.csv, metrics.jsonl and checkpoints (without it such a run is refused)' },
  checkpoint_freq: { type: int(0), default: 50_000, doc: 'write a checkpoint every this many env steps (0: only at the end; runtime=sync: at the first episode end at or after each multiple)' },
  save_buffer: { type: bool, default: true, doc: 'include the replay buffer in checkpoints (resume= needs it; without it a checkpoint holds the model and optimizer only)' },
  resume: { type: str, default: null, nullable: true, doc: 'path of a checkpoint to continue from' },
  log_freq: { type: int(1), default: 1000, doc: 'write a JSONL metrics line every this many env steps' },
  progress: { type: bool, default: true, doc: 'print the start line, progress lines (steps/s, ETA, last return), evaluations and the summary (false: quiet, warnings only)' },

  // ---------------------------------------------------------------- model
  model_size: { type: oneOf('1', '5', '19', '48', '317'), default: '1', nullable: true, doc: 'tdmpc2 size preset (millions of parameters); sets enc_dim/mlp_dim/latent_dim/num_q/num_enc_layers (one given beside it is refused); null: use those fields as given' },
  num_enc_layers: { type: int(1, 16), default: 2, doc: 'encoder layers' },
  enc_dim: { type: int(1), default: 256, doc: 'encoder hidden width' },
  mlp_dim: { type: int(1), default: 384, doc: 'hidden width of dynamics/reward/value/policy' },
  latent_dim: { type: int(8), default: 128, doc: 'latent state size (multiple of simnorm_dim)' },
  num_q: { type: int(1, 32), default: 2, doc: 'value ensemble heads' },
  value_form: { type: oneOf('Q', 'V'), default: 'Q', doc: "value head: Q(s,a) (TD-MPC2) or V(s) (BMPC)" },
  policy_form: { type: oneOf('tdmpc2', 'bmpc'), default: 'tdmpc2', doc: 'policy parameterization: tanh-squashed Gaussian (tdmpc2) or tanh(mean)+clamp (bmpc)' },
  num_reward_heads: { type: int(1, 16), default: 1, doc: 'reward ensemble heads' },
  num_reward_layers: { type: int(1, 8), default: 2, doc: 'hidden layers of each reward head' },
  num_dynamics_heads: { type: int(1, 16), default: 1, doc: 'dynamics heads of the world model; training supports 1 (the update trains a single head)' },
  prior_scale: { type: float(0), default: 0, doc: 'scale of frozen random prior networks added to dynamics heads (0: none)' },
  termination: { type: bool, default: false, doc: 'learn a termination head (episodic tasks)' },
  dropout: { type: float(0, 0.9), default: 0.01, doc: 'value-head dropout' },
  simnorm_dim: { type: int(1), default: 8, doc: 'SimNorm group size' },
  num_bins: { type: int(2), default: 101, doc: 'two-hot bins for reward/value (the discrete regression needs at least 2)' },
  vmin: { type: float(), default: -10, doc: 'lowest bin (symlog space)' },
  vmax: { type: float(), default: 10, doc: 'highest bin (symlog space)' },
  log_std_min: { type: float(), default: -10, doc: 'policy log-std lower bound' },
  log_std_max: { type: float(), default: 2, doc: 'policy log-std upper bound' },

  // ---------------------------------------------------------------- optimization
  batch_size: { type: int(1), default: 256, doc: 'replay slices per update' },
  horizon: { type: int(1, 64), default: 3, doc: 'model rollout / planning horizon' },
  rho: { type: float(0, 1), default: 0.5, doc: 'temporal weight rho^t of loss terms' },
  rho_normalize: { type: bool, default: false, doc: 'normalize rho weights to sum 1 (BMPC) instead of raw rho^t then mean (TD-MPC2)' },
  lr: { type: float(0), default: 3e-4, doc: 'learning rate' },
  enc_lr_scale: { type: float(0), default: 0.3, doc: 'encoder learning-rate multiplier' },
  pi_lr_scale: { type: float(0), default: 1, doc: 'policy learning-rate multiplier' },
  optimizer: { type: oneOf('adam', 'adamw'), default: 'adam', doc: 'Adam (L2) or AdamW (decoupled decay)' },
  weight_decay: { type: float(0), default: 0, doc: 'weight decay' },
  grad_clip_norm: { type: float(0), default: 20, doc: 'global gradient-norm clip (0: no clipping)' },
  grad_clip_scope: { type: oneOf('model', 'module'), default: 'model', doc: "clip the world model's gradients jointly (tdmpc2) or each module (encoder, dynamics, reward, value, termination) on its own (bmpc-jax's optimizer per module)" },
  pi_adam_eps: { type: float(0), default: 1e-5, doc: "the policy optimizer's Adam epsilon (tdmpc2 1e-5; bmpc-jax uses optax's 1e-8)" },
  tau: { type: float(0, 1), default: 0.01, doc: 'EMA rate of the target value network' },
  discount_denom: { type: float(1), default: 5, doc: 'discount heuristic: clip((T/denom-1)/(T/denom), min, max)' },
  discount_min: { type: float(0, 1), default: 0.95, doc: 'discount heuristic lower clip' },
  discount_max: { type: float(0, 1), default: 0.995, doc: 'discount heuristic upper clip' },
  consistency_coef: { type: float(0), default: 20, doc: 'latent consistency loss weight' },
  reward_coef: { type: float(0), default: 0.1, doc: 'reward loss weight' },
  value_coef: { type: float(0), default: 0.1, doc: 'value loss weight' },
  termination_coef: { type: float(0), default: 1, doc: 'termination loss weight' },
  num_rollouts: { type: int(1, 64), default: 1, doc: 'policy samples per state for the TD target' },
  imagine_initial_source: { type: oneOf('encoder', 'rollout'), default: 'encoder', doc: 'TD-target imagination starts from encoder latents (BMPC) or dynamics rollout latents' },
  q_target: { type: oneOf('min2', 'mean'), default: 'min2', doc: "Q form's TD bootstrap: min of 2 random target heads (tdmpc2's clipped double Q) or the mean of all heads; V form always takes the mean (BMPC)" },
  q_estimate: { type: oneOf('avg2', 'mean'), default: 'avg2', doc: "Q form's value in planning and in the policy objective: the average of 2 random heads drawn per call (tdmpc2's Q(..., 'avg'); only those 2 are computed) or the mean of all heads; V form always takes the mean (BMPC)" },

  // ---------------------------------------------------------------- policy objective
  policy_objective: { type: oneOf('max_q', 'distill', 'residual'), default: 'max_q', doc: "'max_q' (TD-MPC2: maximize value + entropy), 'distill' (BMPC: KL to the stored expert) or 'residual' (TD-M(PC)^2: max_q plus a prior term towards the stored expert)" },
  prior_coef: { type: float(0), default: 1, doc: 'residual: weight of the prior term (times action_dim / 61, as TD-M(PC)^2)' },
  prior_scale_threshold: { type: float(0), default: 2, doc: 'residual: the prior term is on once the Q scale exceeds this (TD-M(PC)^2 scale_threshold)' },
  entropy_coef: { type: float(0), default: 1e-4, doc: 'entropy bonus (max_q, residual) on TD-MPC2 log_pi (its Gaussian part times action_dim)' },
  fix_kl_order: { type: bool, default: true, doc: 'distill: KL(expert || policy) if true, KL(policy || expert) if false' },
  kl_reduce: { type: oneOf('mean', 'sum'), default: 'mean', doc: "distill: the KL over action dims, averaged (seed 000's TD-MPC2 fork) or summed (bmpc-jax's MultivariateNormalDiag)" },
  kl_scale_tau: { type: float(0, 1), default: 0.01, doc: 'distill: EMA rate of the 5-95 percentile KL scale (floored at 1)' },
  expert_std_scale: { type: float(0), default: 1.5, doc: 'distill: expert std multiplier' },
  expert_std_min: { type: float(0), default: 0.1, doc: 'distill: expert std floor' },
  start_entropy_coeff: { type: float(0), default: 0, doc: 'distill: entropy coefficient at the start of training' },
  end_entropy_coeff: { type: float(0), default: 0, doc: 'distill: entropy coefficient at the end (linear schedule)' },

  // ---------------------------------------------------------------- planning
  mpc: { type: bool, default: true, doc: 'act with the MPPI planner (false: the policy prior)' },
  iterations: { type: int(1, 64), default: 6, doc: 'MPPI iterations (2 more when action_dim >= 20, as tdmpc2)' },
  num_samples: { type: int(1), default: 512, doc: 'Gaussian action sequences per iteration' },
  num_elites: { type: int(1), default: 64, doc: 'elite sequences' },
  num_pi_trajs: { type: int(0), default: 24, doc: 'policy-prior sequences' },
  min_std: { type: float(0), default: 0.05, doc: 'planner std floor' },
  max_std: { type: float(0), default: 2, doc: 'planner std ceiling and initial std' },
  temperature: { type: float(0), default: 0.5, doc: 'elite softmax temperature' },
  planner_ema_value: { type: bool, default: false, doc: 'score terminal values with the EMA target value network' },
  policy_seed_noise: { type: float(0), default: 0, doc: 'std of noise added to policy-prior trajectories' },
  expert_mean_source: { type: oneOf('mean', 'action'), default: 'mean', doc: "expert mean stored in replay: planner mean or the chosen action" },
  seeding_expert: { type: oneOf('action', 'standard'), default: 'action', doc: "expert stored with random seeding steps: the action with std exp(log_std_max) (TD-M(PC)^2) or N(0, 1) (bmpc-jax)" },

  // ---------------------------------------------------------------- lazy reanalysis (BMPC)
  reanalyze_interval: { type: int(0), default: 0, doc: 're-plan replay observations every k updates (0: off)' },
  reanalyze_batch_size: { type: int(1), default: 20, doc: 'slices (slice mode) or states (independent mode) re-planned' },
  reanalyze_slice_mode: { type: bool, default: true, doc: 'slice mode: all horizon steps of fewer slices; else first steps of more slices' },

  // ---------------------------------------------------------------- replay
  buffer_size: { type: int(1), default: 1_000_000, doc: 'replay capacity in transitions (capped at steps)' },

  // ---------------------------------------------------------------- runtime
  runtime: { type: oneOf('threads', 'sync'), default: 'threads', doc: "'threads' (actors + learner on worker threads) or 'sync' (one loop, bit-reproducible)" },
  actors: { type: int(1, 64), default: 1, doc: 'actor threads (runtime=threads)' },
  param_sync_interval: { type: int(1), default: 1, doc: 'actor steps between parameter snapshot reads' },
  learner_threads: { type: int(0, 64), default: 0, doc: 'engine threads of the learner (sync: of the whole loop); 0: cores - actors under runtime=threads, every core under sync' },
  learner_helps_actor: { type: bool, default: true, doc: "threads: while the learner waits for transitions, its thread computes actor 0's planning kernels (native engine; only when actors + learner threads <= cores; results are bit-identical either way)" },
  actors_help_learner: { type: bool, default: true, doc: "threads: while an actor waits for the learner (rate limiter), and once it has no steps left while the learner still owes updates, its thread computes the learner's update kernels (native engine; one actor at a time; only when actors + learner threads <= cores; results are bit-identical either way)" },
  utd_error_band: { type: int(0), default: 16, doc: "threads: updates the learner may lag (actors then wait) or lead (it then waits) utd_ratio x env steps; Reverb's error_buffer, raised to ceil(utd_ratio x num_envs)" },
  metrics: { type: bool, default: true, doc: 'serve Prometheus /metrics (both runtimes)' },
  'metrics.host': { type: str, default: '127.0.0.1', doc: 'metrics listen address' },
  'metrics.port': { type: int(0, 65535), default: 9464, doc: 'metrics listen port (0: any free port)' },
} satisfies Record<string, FieldSpec>;

export type ConfigKey = keyof typeof SCHEMA;

type ValueOf<F> = F extends { type: { kind: 'int' | 'float' } } ? number
  : F extends { type: { kind: 'bool' } } ? boolean
  : string;

/** The user-facing config: every schema key with its value (null where the field is nullable). */
export type Config = {
  [K in ConfigKey]: (typeof SCHEMA)[K] extends { nullable: true } ? ValueOf<(typeof SCHEMA)[K]> | null : ValueOf<(typeof SCHEMA)[K]>;
};

export function defaultConfig(): Config {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SCHEMA) as [string, FieldSpec][]) out[key] = spec.default;
  return out as Config;
}
