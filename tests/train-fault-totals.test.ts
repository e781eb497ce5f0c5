// Numeric-fault counts (NaN/Inf gradients zeroed, non-finite planner scores, policy fallbacks,
// simulation divergences) continue over a run like its env steps: they used to restart at 0 in
// every process, so after resume= the totals in metrics.jsonl and on /metrics dropped, and a run
// that had been diverging looked clean. The checkpoints here are edited to hold known totals (a
// tiny healthy run counts none of its own), then resumed.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runTraining } from '../src/trainer/run.js';
import { readCheckpoint, writeCheckpoint } from '../src/checkpoint/checkpoint-file.js';
import type { ThreadedHandle } from '../src/runtime/run-threaded.js';
import type { ActorFaultTotals } from '../src/runtime/control.js';
import type { AgentFaultTotals } from '../src/agent/agent.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';
import { freePort } from './helpers/ports.js';

const AGENT_FAULTS: AgentFaultTotals = { gradEntries: 11, actingPlanScores: 7, reanalysisPlanScores: 0, policyActions: 2 };
const ACTOR_FAULTS: ActorFaultTotals = { divergences: 5, planScores: 7, policyActions: 2, evalPlanScores: 3, evalPolicyActions: 1 };

/** The checkpoint with known fault totals written into it, as a new file. */
function withFaults(file: string, edit: (meta: Record<string, unknown>) => void): string {
  const c = readCheckpoint(file);
  edit(c.meta);
  const out = `${file}.faults.ckpt`;
  writeCheckpoint(out, c);
  return out;
}
const lines = (dir: string) => readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);
/** Every train line after the resume (step 200) shows the checkpoint's totals (the run adds none). */
function expectTrainLinesCountOn(dir: string): void {
  const after = lines(dir).filter((l) => Number(l.step) > 200 && l.kind === 'train');
  expect(after.length).toBeGreaterThan(0);
  for (const l of after) {
    expect([l.nonfinite_grads_total, l.plan_nonfinite_scores, l.policy_nonfinite_actions, l.physics_divergences]).toEqual([11, 7, 2, 5]);
  }
}
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

/** The first scrape after resume= shows the checkpoint's totals on every fault series (both runtimes). */
function expectFaultSeries(text: string): void {
  expect(sample(text, 'tdmpc_physics_divergences_total{task="cartpole-swingup"}')).toBe(5);
  expect(sample(text, 'tdmpc_plan_nonfinite_scores_total{planner="acting"}')).toBe(7);
  expect(sample(text, 'tdmpc_plan_nonfinite_scores_total{planner="eval"}')).toBe(3);
  expect(sample(text, 'tdmpc_policy_nonfinite_actions_total{use="acting"}')).toBe(2);
  expect(sample(text, 'tdmpc_policy_nonfinite_actions_total{use="eval"}')).toBe(1);
  expect(sample(text, 'tdmpc_learner_nonfinite_gradients_total')).toBe(11);
}

describe('numeric-fault totals continue after resume=', () => {
  it('runtime=sync: /metrics, metrics.jsonl and the next checkpoint count on from the checkpoint', async () => {
    const args = [...TINY_THREADS.filter((a) => a !== 'runtime=threads'), 'runtime=sync', 'eval_episodes=0', 'steps=200', `work_dir=${workDir('faults-sync')}`];
    const first = await runTraining(args);
    const ckpt = withFaults(path.join(first.dir, 'checkpoints', 'final.ckpt'), (meta) => {
      (meta.agent as Record<string, unknown>).faults = AGENT_FAULTS;
      (meta.trainer as Record<string, unknown>).divergences = 5;
      (meta.trainer as Record<string, unknown>).evalFaults = { planScores: 3, policyActions: 1 };
    });
    const port = await freePort();
    let atStart: Promise<string> | null = null;
    const resumed = await runTraining([`resume=${ckpt}`, 'steps=300', `metrics.port=${port}`], {
      afterStep: () => { atStart ??= fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()); },
    });
    expectFaultSeries(await atStart!);
    expectTrainLinesCountOn(resumed.dir);
    const saved = readCheckpoint(path.join(resumed.dir, 'checkpoints', 'final.ckpt')).meta;
    expect((saved.agent as { faults: AgentFaultTotals }).faults).toEqual(AGENT_FAULTS);
    expect((saved.trainer as { evalFaults: unknown }).evalFaults).toEqual({ planScores: 3, policyActions: 1 });
  }, 60_000);

  it('runtime=threads: /metrics from the first scrape, metrics.jsonl and the next checkpoint count on from the checkpoint', async () => {
    const args = [...TINY_THREADS, 'eval_episodes=0', 'steps=200', `work_dir=${workDir('faults-threads')}`];
    const first = await runTraining(args);
    const ckpt = withFaults(first.summary!.checkpoint, (meta) => {
      // The learner's own counts travel in its agent; the actors' and evaluations' in the trainer state.
      (meta.agent as Record<string, unknown>).faults = { ...AGENT_FAULTS, actingPlanScores: 0, policyActions: 0 };
      (meta.trainer as Record<string, unknown>).actorFaults = ACTOR_FAULTS;
    });
    let atStart = '';
    const resumed = await runTraining([`resume=${ckpt}`, 'steps=300', 'progress=false'], {
      onThreadsStart: async (h: ThreadedHandle) => { atStart = await (await fetch(h.metricsUrl!)).text(); },
    });
    expectFaultSeries(atStart);
    expectTrainLinesCountOn(resumed.dir);
    const saved = readCheckpoint(resumed.summary!.checkpoint).meta;
    expect((saved.trainer as { actorFaults: ActorFaultTotals }).actorFaults).toEqual(ACTOR_FAULTS);
    expect((saved.agent as { faults: AgentFaultTotals }).faults.gradEntries).toBe(11);
  }, 60_000);
});
