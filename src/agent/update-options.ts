// The update's options (from the validated Config) and the scalars one update reports.
import type { Config } from '../config/schema.js';
import type { PolicyObjectiveConfig } from './policy-objective.js';

export interface UpdateOptions {
  batchSize: number;
  horizon: number;
  discount: number;
  /** Seed of the update's dropout/policy-noise counters. */
  seed: number;
  rho: number;
  rhoNormalize: boolean;
  consistencyCoef: number;
  rewardCoef: number;
  valueCoef: number;
  terminationCoef: number;
  numRollouts: number;
  imagineInitialSource: 'encoder' | 'rollout';
  /** Q form's TD bootstrap: min of 2 random target heads (tdmpc2) or the mean of all of them. */
  qTarget: 'min2' | 'mean';
  policy: Omit<PolicyObjectiveConfig, 'rho' | 'rhoNormalize' | 'discount'>;
  lr: number;
  encLrScale: number;
  piLrScale: number;
  optimizer: 'adam' | 'adamw';
  weightDecay: number;
  gradClipNorm: number;
  /** 'model': one global norm over the world model (tdmpc2); 'module': per module (bmpc-jax). */
  gradClipScope?: 'model' | 'module';
  /** The policy group's Adam epsilon (tdmpc2 1e-5). */
  piAdamEps?: number;
  tau: number;
  valueUpdateFreq: number;
  piUpdateFreq: number;
}

/** The update's options from a validated Config (discount comes from derive.ts). */
export function updateOptionsFromConfig(cfg: Config, discount: number): UpdateOptions {
  // Read through a plain record: the values are validated by the config loader already.
  const c = cfg as unknown as Record<string, unknown>;
  const n = (k: string): number => c[k] as number;
  const f = (k: string): boolean => c[k] as boolean;
  return {
    batchSize: n('batch_size'), horizon: n('horizon'), discount, seed: n('seed'),
    rho: n('rho'), rhoNormalize: f('rho_normalize'),
    consistencyCoef: n('consistency_coef'), rewardCoef: n('reward_coef'), valueCoef: n('value_coef'),
    terminationCoef: n('termination_coef'), numRollouts: n('num_rollouts'),
    imagineInitialSource: c.imagine_initial_source as 'encoder' | 'rollout', qTarget: c.q_target as 'min2' | 'mean',
    policy: {
      objective: c.policy_objective as 'max_q' | 'distill' | 'residual', entropyCoef: n('entropy_coef'), qScaleTau: n('tau'),
      qEstimate: c.q_estimate as 'avg2' | 'mean',
      fixKlOrder: f('fix_kl_order'), klReduce: c.kl_reduce as 'mean' | 'sum', klScaleTau: n('kl_scale_tau'), expertStdScale: n('expert_std_scale'),
      expertStdMin: n('expert_std_min'), startEntropyCoeff: n('start_entropy_coeff'), endEntropyCoeff: n('end_entropy_coeff'),
      priorCoef: n('prior_coef'), priorScaleThreshold: n('prior_scale_threshold'), priorMinStd: n('min_std'),
    },
    lr: n('lr'), encLrScale: n('enc_lr_scale'), piLrScale: n('pi_lr_scale'),
    optimizer: c.optimizer as 'adam' | 'adamw', weightDecay: n('weight_decay'), gradClipNorm: n('grad_clip_norm'),
    gradClipScope: c.grad_clip_scope as 'model' | 'module', piAdamEps: n('pi_adam_eps'),
    tau: n('tau'), valueUpdateFreq: n('value_update_freq'), piUpdateFreq: n('pi_update_freq'),
  };
}

/** What one update reports (one object, overwritten by the next update). */
export interface UpdateInfo {
  consistency_loss: number;
  reward_loss: number;
  value_loss: number;
  termination_loss: number;
  /** consistency_coef·L_c + reward_coef·L_r + value_coef·L_v + termination_coef·L_d. */
  total_loss: number;
  pi_loss: number;
  pi_entropy: number;
  pi_scale: number;
  pi_entropy_coef: number;
  /** distill: mean KL (unscaled); max_q: 0. */
  kl: number;
  /** max_q: mean Q(z, π(z)); distill: 0. */
  pi_q: number;
  /** residual (TD-M(PC)²): mean -log N(π sample; stored expert), 0 while the prior term is off. */
  pi_prior: number;
  /** Mean TD target. */
  td_target: number;
  /** World-model gradient norm before clipping, and the policy's. */
  grad_norm: number;
  pi_grad_norm: number;
  /** NaN/Inf gradient entries zeroed this update (world model + policy). */
  nonfinite_grads: number;
  /** nonfinite_grads summed over this process's updates (a diverging run shows here even when the logged update had none). */
  nonfinite_grads_total: number;
  /** 1 if the value ensemble / policy was trained this update, else 0. */
  value_updated: number;
  pi_updated: number;
  /** Updates completed, including this one. */
  updates: number;
}

export function emptyInfo(): UpdateInfo {
  return {
    consistency_loss: 0, reward_loss: 0, value_loss: 0, termination_loss: 0, total_loss: 0,
    pi_loss: 0, pi_entropy: 0, pi_scale: 1, pi_entropy_coef: 0, kl: 0, pi_q: 0, pi_prior: 0, td_target: 0,
    grad_norm: 0, pi_grad_norm: 0, nonfinite_grads: 0, nonfinite_grads_total: 0, value_updated: 0, pi_updated: 0, updates: 0,
  };
}
