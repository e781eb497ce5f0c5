// The numeric-fault warnings: one line per log interval in which the counts grew, none otherwise;
// an evaluation's planner faults are counted in its metrics and warned about once.
import { describe, expect, it } from 'vitest';
import { DivergenceNotes, NumericFaultNotes, evaluationFaultNote } from '../src/trainer/numeric-faults.js';
import { loadConfig } from '../src/config/load.js';
import { deriveConfig, envOptionsFor } from '../src/config/derive.js';
import { VectorEnv } from '../src/envs/vector-env.js';
import { makeTask } from '../src/envs/registry.js';
import { JsEngine } from '../src/engine/js-engine.js';
import { Agent } from '../src/agent/agent.js';
import { evaluate } from '../src/trainer/evaluate.js';

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

describe('DivergenceNotes', () => {
  it('warns once per log line about the divergences since the last one, from a resumed count', () => {
    const notes = new DivergenceNotes(3); // a resumed synchronous run: 3 reported before its checkpoint
    expect(notes.since(3, 'run', 'env 0: MuJoCo warning')).toBeNull();
    expect(notes.since(5, 'run', 'env 1: non-finite reward NaN')).toBe(
      '2 environment step(s) diverged in simulation since the last log (5 in this run; the latest: env 1: non-finite reward NaN): '
      + 'each ended its episode at the last valid state and was not stored');
    expect(notes.since(5, 'run')).toBeNull();
    expect(new DivergenceNotes().since(1, 'process')).toMatch(/^1 environment step\(s\) diverged in simulation since the last log \(1 in this process: MuJoCo reset the physics, or the observation or reward was not finite\): each ended/);
  });
});

describe('evaluation planner faults', () => {
  it('counts the evaluation planner\'s NaN/Inf scores in the eval metrics and keeps acting on finite actions', async () => {
    const cfg = loadConfig([
      'task=cartpole-swingup', 'model_size=null', 'enc_dim=32', 'mlp_dim=32', 'latent_dim=16', 'num_q=2',
      'num_samples=16', 'num_elites=4', 'num_pi_trajs=2', 'iterations=2', 'horizon=2', 'episode_length=20', 'eval_episodes=2',
    ]);
    const env = await VectorEnv.create(makeTask(cfg.task), cfg.eval_episodes, envOptionsFor(cfg));
    const derived = deriveConfig(cfg, { name: cfg.task, obsDim: env.obsDim, actionDim: env.actionDim, episodeLength: env.maxEpisodeSteps, episodic: false });
    const agent = new Agent(new JsEngine(), cfg, derived, cfg.eval_episodes);
    const healthy = (await evaluate(agent, { env, count: 0 }, cfg, derived))!;
    expect(healthy.metrics.plan_nonfinite_scores).toBe(0);
    expect(evaluationFaultNote(0, healthy.metrics)).toBeNull();
    // A diverged value ensemble: every candidate's score is NaN.
    const { offset, length } = agent.model.seg.value;
    agent.model.params.fill(NaN, offset, offset + length);
    agent.model.valueTarget.fill(NaN);
    const sick = (await evaluate(agent, { env, count: 1 }, cfg, derived))!;
    // Every candidate of every step of both episodes (20 steps, 2 envs, batched): the sampled ones
    // in each iteration, the policy-prior ones once (their score cannot change across iterations).
    expect(sick.metrics.plan_nonfinite_scores).toBe(20 * 2 * (cfg.iterations * cfg.num_samples + cfg.num_pi_trajs));
    expect(Number.isFinite(sick.reward)).toBe(true);
    expect(evaluationFaultNote(2500, sick.metrics)).toMatch(/^numeric faults in the evaluation at step 2500: 1360 planner candidates with a NaN\/Inf score ranked last/);
  });
});
