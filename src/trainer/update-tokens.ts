// Fractional update tokens: each vector step of N envs earns N * utd_ratio updates; whole tokens
// are spent, the fraction carries over. Over a run the update count is floor(steps * utd_ratio)
// (up to float rounding, guarded by a tiny epsilon), whatever N is, so UTD studies get the ratio
// they asked for, including ratios below 1.
/**
 * The whole updates that `tokens` (utd_ratio x env steps) pay for. The epsilon keeps float
 * rounding from losing an update (0.1 x 10 steps is 0.9999999999999999): the token scheme, the
 * rate limiter's closed form and the config check all count with this one function.
 */
export function wholeUpdates(tokens: number): number {
  return Math.floor(tokens + 1e-9);
}

export class UpdateTokens {
  constructor(readonly utdRatio: number, public carry = 0) {}

  /** Adds the tokens of `envSteps` environment steps; returns how many updates to run now. */
  add(envSteps: number): number {
    this.carry += envSteps * this.utdRatio;
    const n = wholeUpdates(this.carry);
    this.carry -= n;
    return n;
  }
}
