// Settings that do nothing in the run they were given to. Each parameter of a feature is read only
// when that feature is on (the KL terms only by the distill objective, the rate limiter's band only
// by the threaded runtime, ...), so `kl_reduce=sum` beside `policy_objective=max_q` trained exactly
// the run without it and said nothing: an ablation that changed nothing looked like a result.
// These are warnings, not refusals: a sweep file may set a feature's parameters for every cell
// while another key turns the feature on and off. Only keys the user gave are checked (the algo
// presets set the parameters of features their algo does not use, on purpose).
import type { Config } from './schema.js';
import type { GivenKeys } from './load.js';

interface InertRule {
  keys: readonly string[];
  /** Why the keys do nothing in this config, or null when they act. */
  inert: (c: Config) => string | null;
}

const RULES: readonly InertRule[] = [
  {
    keys: ['fix_kl_order', 'kl_reduce', 'kl_scale_tau', 'expert_std_scale', 'expert_std_min', 'start_entropy_coeff', 'end_entropy_coeff'],
    inert: (c) => c.policy_objective === 'distill' ? null : `only policy_objective=distill reads it, and this run's policy_objective is ${c.policy_objective}`,
  },
  {
    keys: ['prior_coef', 'prior_scale_threshold'],
    inert: (c) => c.policy_objective === 'residual' ? null : `only policy_objective=residual reads it, and this run's policy_objective is ${c.policy_objective}`,
  },
  {
    keys: ['entropy_coef'],
    inert: (c) => c.policy_objective !== 'distill' ? null : 'policy_objective=distill schedules its entropy coefficient with start_entropy_coeff and end_entropy_coeff instead',
  },
  {
    keys: ['q_target', 'q_estimate'],
    inert: (c) => c.value_form === 'Q' ? null : 'value_form=V always takes the mean over value heads',
  },
  {
    keys: ['reanalyze_batch_size', 'reanalyze_slice_mode'],
    inert: (c) => c.reanalyze_interval > 0 ? null : 'reanalysis is off (reanalyze_interval=0)',
  },
  {
    keys: ['termination_coef'],
    inert: (c) => c.termination ? null : 'the run learns no termination head (termination=false)',
  },
  {
    keys: ['grad_clip_scope'],
    inert: (c) => c.grad_clip_norm > 0 ? null : 'gradients are not clipped (grad_clip_norm=0)',
  },
  {
    keys: ['actors', 'param_sync_interval', 'utd_error_band', 'learner_helps_actor', 'actors_help_learner'],
    inert: (c) => c.runtime === 'threads' ? null : 'only runtime=threads reads it (runtime=sync is one loop)',
  },
  {
    keys: ['metrics.host', 'metrics.port'],
    inert: (c) => c.metrics ? null : 'metrics are off (metrics=false)',
  },
  {
    keys: ['eval_freq', 'eval_pi', 'eval_value'],
    inert: (c) => c.eval_episodes > 0 ? null : 'the run does not evaluate (eval_episodes=0)',
  },
];

/** One line per given key that has no effect in `config`, naming where it came from and why. */
export function inertSettings(config: Config, given: GivenKeys): string[] {
  const lines: string[] = [];
  for (const rule of RULES) {
    const why = rule.inert(config);
    if (why === null) continue;
    for (const key of rule.keys) {
      const user = given.get(key);
      if (!user) continue;
      lines.push(`${key}=${String(config[key as keyof Config])} (${user.source}) has no effect: ${why}`);
    }
  }
  return lines;
}
