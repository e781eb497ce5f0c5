// Numeric faults (NaN/Inf) are contained where they arise: the optimizer zeroes non-finite gradient
// entries before its step (src/agent/optimizer.ts) and the planner ranks non-finite candidate
// scores last (src/agent/mppi.ts). Both count them; this turns the counts into one stderr warning
// per log line in which they grew, in both runtimes, so a diverging run is not silent.

export interface NumericFaultCounts {
  /** NaN/Inf gradient entries zeroed, over this process's updates. */
  gradEntries: number;
  /** Planner candidates whose score was NaN/Inf, over this process's plans (acting and reanalysis). */
  planScores: number;
}

export class NumericFaultNotes {
  private logged: NumericFaultCounts = { gradEntries: 0, planScores: 0 };

  /** The warning for the faults counted since the last call, or null when there were none. */
  since(now: NumericFaultCounts): string | null {
    const grads = now.gradEntries - this.logged.gradEntries;
    const scores = now.planScores - this.logged.planScores;
    this.logged = { ...now };
    if (grads <= 0 && scores <= 0) return null;
    const parts = [
      ...(grads > 0 ? [`${grads} NaN/Inf gradient entries zeroed before the optimizer step (${now.gradEntries} in this process)`] : []),
      ...(scores > 0 ? [`${scores} planner candidates with a NaN/Inf score ranked last (${now.planScores} in this process)`] : []),
    ];
    return `numeric faults since the last log: ${parts.join('; ')}. Training continues on the finite values; ` +
      'if the count keeps growing the run is diverging (lower lr, or check the task\'s rewards and observations)';
  }
}

/** The warning for an evaluation whose planner met NaN/Inf scores, or null when it met none. */
export function evaluationFaultNote(step: number, metrics: Record<string, number>): string | null {
  const n = metrics.plan_nonfinite_scores ?? 0;
  if (n <= 0) return null;
  return `numeric faults in the evaluation at step ${step}: ${n} planner candidates with a NaN/Inf score ranked last ` +
    '(the evaluation\'s return stands, on the finite candidates); a model that produces them is diverging';
}
