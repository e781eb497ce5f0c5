// UTD control: a samples-per-insert rate limiter with Reverb's semantics (SampleToInsertRatio:
// samples_per_insert = utd_ratio, min_size_to_sample = seed steps, error_buffer = utd_error_band),
// counted in the shared run header (inserts = env steps committed, samples = learner updates).
//
// The budget is the synchronous loop's token arithmetic (src/trainer/update-tokens.ts), so a
// threaded run ends with exactly the synchronous loop's update count for the same step count:
//   S0 = ceil(seed_steps / N) * N                         first env step that earns updates
//   target(I) = 0 if I <= S0, else tokens(I - S0) + pretrain_updates
//   tokens(k) = the updates UpdateTokens hands out for k steps fed N at a time (~ floor(utd * k))
// Reanalysis is scheduled by the learner's own update count and never spends this budget.
//
//   learner may run update u+1 when   u + 1 <= target(I) + band (only once I > S0)  and  u + 1 <= target(total)
//   an actor may take N more steps    when   target(I') - u <= band    (I' = steps claimed so far)
//
// so updates stay within `band` (+ one vector step's utd x N) of utd_ratio x inserts on both sides,
// and both sides wait with Atomics.waitAsync on the other's counter (no busy loop). The actors'
// check is on the backlog before their step, so the step that earns the pretraining burst is never
// blocked by it (which would deadlock: the learner needs that step to start). With several actors
// in flight the actors' side can overshoot by another (actors - 1) x N x utd.
import { UpdateTokens, wholeUpdates } from '../trainer/update-tokens.js';
import { wholeVectorSteps, type Derived } from '../config/derive.js';
import type { Config } from '../config/schema.js';
import { waitWhileEqual, yieldToEventLoop } from './atomics.js';
import { kUpdates, type RunHeader } from './header.js';

export interface RateLimiterOptions {
  utdRatio: number;
  /** Env steps per insert (num_envs of every actor). */
  numEnvs: number;
  seedSteps: number;
  pretrainUpdates: number;
  /** Error band in updates (utd_error_band). */
  errorBand: number;
  /** Steps of the whole run: ceil(steps / N) * N. */
  totalSteps: number;
}

/** The options of a run's limiter, from its config: the threaded runtime's, and a checkpoint's owed updates (run.ts). */
export function rateLimiterOptionsFor(cfg: Config, derived: Pick<Derived, 'seedSteps' | 'pretrainUpdates'>): RateLimiterOptions {
  return {
    utdRatio: cfg.utd_ratio, numEnvs: cfg.num_envs, seedSteps: derived.seedSteps, pretrainUpdates: derived.pretrainUpdates,
    errorBand: cfg.utd_error_band, totalSteps: wholeVectorSteps(cfg.steps, cfg.num_envs),
  };
}

export class RateLimiter {
  /** First env step that earns update tokens (S0 above). */
  readonly learnStart: number;
  readonly band: number;
  readonly finalUpdates: number;

  constructor(readonly opts: RateLimiterOptions) {
    const N = opts.numEnvs;
    this.learnStart = wholeVectorSteps(opts.seedSteps, N);
    this.band = Math.max(opts.errorBand, Math.ceil(opts.utdRatio * N));
    this.finalUpdates = this.exactTarget(opts.totalSteps);
  }

  /** Closed form of target(I) (actors' check; may differ from the exact ledger by float rounding, not by more). */
  approxTarget(inserts: number): number {
    if (inserts <= this.learnStart) return 0;
    return wholeUpdates(this.opts.utdRatio * (inserts - this.learnStart)) + this.opts.pretrainUpdates;
  }

  /** target(I) with the synchronous loop's token arithmetic. */
  exactTarget(inserts: number): number {
    if (inserts <= this.learnStart) return 0;
    const t = new UpdateTokens(this.opts.utdRatio);
    let n = this.opts.pretrainUpdates;
    for (let s = this.learnStart; s < inserts; s += this.opts.numEnvs) n += t.add(this.opts.numEnvs);
    return n;
  }

  /**
   * Actor side: may N more env steps be committed with the learner at `updates`? Checked on the
   * backlog before the insert, so the insert that starts learning (and earns the pretraining
   * burst, which may exceed the band) always goes through, and the actors then wait for the burst.
   */
  mayInsert(inserts: number, updates: number): boolean {
    return this.approxTarget(inserts) - updates <= this.band;
  }

  /**
   * Actor side: waits until N more steps fit the band or `stop()` says to give up. `help(u)` may
   * spend the wait computing the learner's kernels until the update counter leaves u (true if it
   * did; it returns within one kernel task of the change); otherwise the actor sleeps on the
   * counter (Atomics.waitAsync, at most 100 ms at a time). `waited(seconds)` hears of every slice
   * of the wait as it ends, so a wait of minutes (a pretraining burst) shows in the metrics while
   * it lasts.
   */
  async waitToInsert(
    header: RunHeader, stop: () => boolean, help: ((updates: number) => boolean) | undefined, waited: (seconds: number) => void,
  ): Promise<void> {
    for (;;) {
      const u = header.updates();
      if (this.mayInsert(header.claimed(), u) || stop()) return;
      const t0 = performance.now();
      if (help?.(u)) await yieldToEventLoop(); // control messages (pause, stop) run between helps
      else await waitWhileEqual(header.i32, kUpdates, u, 100);
      waited((performance.now() - t0) / 1000);
    }
  }
}

/**
 * The learner's exact ledger: feeds UpdateTokens the inserted steps N at a time, exactly as the
 * synchronous loop does, and says whether one more update is allowed.
 */
export class UpdateLedger {
  private readonly tokens: UpdateTokens;
  /** Steps past learnStart already fed to the tokens. */
  fed: number;
  /** Updates earned so far (target of the steps fed). */
  earned: number;

  constructor(readonly limiter: RateLimiter, state?: LedgerState) {
    this.tokens = new UpdateTokens(limiter.opts.utdRatio, state?.carry ?? 0);
    this.fed = state?.fed ?? 0;
    this.earned = state?.earned ?? 0;
  }

  /** Catches up with `inserts` committed env steps. */
  sync(inserts: number): void {
    const { learnStart } = this.limiter;
    const N = this.limiter.opts.numEnvs;
    while (learnStart + this.fed + N <= inserts) {
      if (this.fed === 0) this.earned += this.limiter.opts.pretrainUpdates;
      this.earned += this.tokens.add(N);
      this.fed += N;
    }
  }

  /** May update number `updates + 1` run now? (Learner-ahead band only once learning started.) */
  mayUpdate(updates: number): boolean {
    if (this.fed === 0) return false;
    return updates + 1 <= Math.min(this.earned + this.limiter.band, this.limiter.finalUpdates);
  }

  /** Updates behind the budget (negative: ahead of it). */
  backlog(updates: number): number {
    return this.earned - updates;
  }

  state(): LedgerState {
    return { carry: this.tokens.carry, fed: this.fed, earned: this.earned };
  }
}

export interface LedgerState {
  carry: number;
  fed: number;
  earned: number;
}
