// Fractional update tokens: each vector step of N envs earns N * utd_ratio updates; whole tokens
// are spent, the fraction carries over. Over a run the update count is floor(steps * utd_ratio)
// (up to float rounding, guarded by a tiny epsilon), whatever N is, so UTD studies get the ratio
// they asked for, including ratios below 1.
export class UpdateTokens {
  constructor(readonly utdRatio: number, public carry = 0) {}

  /** Adds the tokens of `envSteps` environment steps; returns how many updates to run now. */
  add(envSteps: number): number {
    this.carry += envSteps * this.utdRatio;
    const n = Math.floor(this.carry + 1e-9);
    this.carry -= n;
    return n;
  }
}
