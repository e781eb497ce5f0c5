// The end-of-run UTD report, the same for both runtimes: updates per env step over the learning
// steps (those after seeding; the pretraining burst is not counted, it is a one-off), against the
// target and against the count the synchronous token arithmetic gives for the steps taken. Before
// this, the synchronous loop printed updates / all steps, seeding included (0.733 for a run whose
// ratio was exactly 1 after seeding), while the threaded runtime printed the ratio above.

import type { RateLimiter } from '../runtime/rate-limiter.js';

export interface UtdReport {
  /** Realized updates per learning step, the burst excluded (0 before learning starts). */
  utd: number;
  /** For the "done:" line. */
  line: string;
}

/**
 * The report of a run that took `envSteps` steps and made `updates` updates under the run's limiter;
 * `expectedUpdates` is the limiter's count for those steps (passed when the caller has it already).
 */
export function utdReport(limiter: RateLimiter, envSteps: number, updates: number, expectedUpdates = limiter.exactTarget(envSteps)): UtdReport {
  const { learnStart } = limiter;
  const { pretrainUpdates, utdRatio } = limiter.opts;
  const learnSteps = Math.max(0, envSteps - learnStart);
  if (learnSteps === 0) return { utd: 0, line: `stopped while seeding: ${envSteps} of ${learnStart} seed steps` };
  if (updates < pretrainUpdates) return { utd: 0, line: `stopped in the pretraining burst: ${updates} of ${pretrainUpdates} pretraining updates` };
  const utd = (updates - pretrainUpdates) / learnSteps;
  return { utd, line: `realized utd ${utd.toFixed(4)} over the ${learnSteps} learning steps, target ${utdRatio}; ${expectedUpdates} expected` };
}
