// The numeric-fault warning: one line per log interval in which the counts grew, none otherwise.
import { describe, expect, it } from 'vitest';
import { NumericFaultNotes } from '../src/trainer/numeric-faults.js';

describe('NumericFaultNotes', () => {
  it('warns only about the faults counted since the last log line', () => {
    const notes = new NumericFaultNotes();
    expect(notes.since({ gradEntries: 0, planScores: 0 })).toBeNull();
    expect(notes.since({ gradEntries: 12, planScores: 0 })).toMatch(/^numeric faults since the last log: 12 NaN\/Inf gradient entries zeroed before the optimizer step \(12 in this process\)\. Training continues/);
    expect(notes.since({ gradEntries: 12, planScores: 0 })).toBeNull();
    const both = notes.since({ gradEntries: 15, planScores: 4 })!;
    expect(both).toContain('3 NaN/Inf gradient entries zeroed before the optimizer step (15 in this process)');
    expect(both).toContain('4 planner candidates with a NaN/Inf score ranked last (4 in this process)');
    expect(both).toContain('lower lr');
  });
});
