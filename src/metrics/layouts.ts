// What each worker counts (one block per actor slot, one for the learner). Names here are block
// slots; the Prometheus names and help texts are in registry.ts.
import { BlockLayout } from './block.js';

/** Seconds. Plans take ~1 ms (tiny models) to ~1 s (model_size 5 on one core); env steps 50 us - 20 ms. */
export const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;
/** DMControl episode returns lie in [0, 1000]. */
export const RETURN_BUCKETS = [10, 50, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000] as const;
/** Exact policy-lag counts up to this many updates (the bench reads p50/p99 from them). */
export const LAG_MAX = 4096;

/** Loss terms exported as tdmpc_learner_loss{term}: update info key -> term label. */
export const LOSS_TERMS: Readonly<Record<string, string>> = {
  consistency_loss: 'consistency',
  reward_loss: 'reward',
  value_loss: 'value',
  termination_loss: 'termination',
  pi_loss: 'pi',
  total_loss: 'total',
};

/**
 * The update's other diagnostics (Updater info keys), newest value: metrics.jsonl's train lines
 * carry them in both runtimes. Not exported to Prometheus (tuning detail, not run health).
 */
export const UPDATE_DIAGNOSTICS = [
  'td_target', 'pi_grad_norm', 'pi_entropy', 'pi_entropy_coef', 'pi_scale', 'pi_q', 'pi_prior', 'kl', 'value_updated', 'pi_updated',
] as const;

/** The acting planner's diagnostics (Agent.act), newest value per actor; train lines log their mean over actors. */
/** Update info keys the learner block mirrors under the same name (newest value): train lines read them all, /metrics the losses and grad norm. */
export const LEARNER_MIRRORED_INFO = [...Object.keys(LOSS_TERMS), ...UPDATE_DIAGNOSTICS, 'grad_norm', 'reanalyzed_total'];

export const PLAN_DIAGNOSTICS = ['plan_elite_value', 'plan_std'] as const;

export const ACTOR_LAYOUT = new BlockLayout({
  scalars: [
    'env_steps', 'episodes', 'last_episode_return', 'heartbeat_seconds', 'acting_version',
    'rate_wait_seconds', 'param_syncs', 'snapshot_retries', 'seeding', 'guest_jobs', 'physics_divergences',
    'plan_nonfinite_scores', 'policy_nonfinite_actions', ...PLAN_DIAGNOSTICS,
  ],
  histograms: { plan_seconds: DURATION_BUCKETS, env_step_seconds: DURATION_BUCKETS, episode_return: RETURN_BUCKETS },
  intHistograms: { policy_lag: LAG_MAX },
});

export const LEARNER_LAYOUT = new BlockLayout({
  scalars: [
    'updates', 'samples', 'reanalyzed', 'rate_wait_seconds', 'version', 'heartbeat_seconds', 'grad_norm',
    'backlog', 'publishes', 'guest_jobs', 'nonfinite_grads', 'reanalysis_nonfinite_scores', ...Object.keys(LOSS_TERMS),
    // The newest update's own non-finite gradient entries, and the agent's reanalysed-row total (both as sync logs them).
    'update_nonfinite_grads', 'reanalyzed_total', ...UPDATE_DIAGNOSTICS,
  ],
  histograms: { update_seconds: DURATION_BUCKETS, reanalysis_seconds: DURATION_BUCKETS, publish_seconds: DURATION_BUCKETS },
  intHistograms: {},
});
