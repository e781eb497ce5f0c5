// The end-of-run UTD report, the same for both runtimes: updates per env step over the learning
// steps (those after seeding; the pretraining burst is not counted, it is a one-off), against the
// target and against the count the synchronous token arithmetic gives for the steps taken. Before
// this, the synchronous loop printed updates / all steps, seeding included (0.733 for a run whose
// ratio was exactly 1 after seeding), while the threaded runtime printed the ratio above.

export interface UtdReportInput {
  envSteps: number;
  updates: number;
  /** First env step that earns updates (RateLimiter.learnStart). */
  learnStart: number;
  pretrainUpdates: number;
  utdRatio: number;
  /** Updates the run owes for envSteps (RateLimiter.exactTarget). */
  expectedUpdates: number;
}

export interface UtdReport {
  /** Realized updates per learning step, the burst excluded (0 before learning starts). */
  utd: number;
  /** For the "done:" line. */
  line: string;
}

export function utdReport(r: UtdReportInput): UtdReport {
  const learnSteps = Math.max(0, r.envSteps - r.learnStart);
  if (learnSteps === 0) return { utd: 0, line: `stopped while seeding: ${r.envSteps} of ${r.learnStart} seed steps` };
  if (r.updates < r.pretrainUpdates) return { utd: 0, line: `stopped in the pretraining burst: ${r.updates} of ${r.pretrainUpdates} pretraining updates` };
  const utd = (r.updates - r.pretrainUpdates) / learnSteps;
  return { utd, line: `realized utd ${utd.toFixed(4)} over the ${learnSteps} learning steps, target ${r.utdRatio}; ${r.expectedUpdates} expected` };
}
