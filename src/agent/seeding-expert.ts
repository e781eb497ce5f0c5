// The expert distribution stored with random seeding steps, where no planner has run (BMPC
// distills the policy towards stored experts, so seed data needs one):
//   'action'   (TD-M(PC)², seed 001): the random action itself, with the widest policy std
//              exp(log_std_max);
//   'standard' (bmpc-jax's train.py): mean 0, std 1.
export type SeedingExpertMode = 'action' | 'standard';

export class SeedingExpert {
  /** [N·A] std, and the mean unless it is the action ('action' mode: null). */
  readonly std: Float32Array;
  private readonly mean: Float32Array | null;

  constructor(mode: SeedingExpertMode, size: number, logStdMax: number) {
    this.std = new Float32Array(size).fill(mode === 'action' ? Math.exp(logStdMax) : 1);
    this.mean = mode === 'action' ? null : new Float32Array(size);
  }

  /** The expert mean to store beside the random `action` [N·A]. */
  meanFor(action: Float32Array): Float32Array {
    return this.mean ?? action;
  }
}
