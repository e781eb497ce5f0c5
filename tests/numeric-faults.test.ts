// The numeric-fault warnings: one line per log interval in which the counts grew, none otherwise;
// an evaluation's planner faults are counted in its metrics and warned about once; a NaN/Inf
// policy-prior action is replaced by the fallback and counted by use.
import { describe, expect, it } from 'vitest';
import { DivergenceNotes, NumericFaultNotes, evaluationFaultNote } from '../src/trainer/numeric-faults.js';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { deriveConfig, envOptionsFor } from '../src/config/derive.js';
import { VectorEnv } from '../src/envs/vector-env.js';
import { makeTask } from '../src/envs/registry.js';
import { JsEngine } from '../src/engine/js-engine.js';
import { Agent } from '../src/agent/agent.js';
import { evaluate } from '../src/trainer/evaluate.js';

describe('NumericFaultNotes', () => {
  it('warns only about the faults counted since the last log line (from a resumed run\'s counts)', () => {
    expect(new NumericFaultNotes({ gradEntries: 7, planScores: 1, policyActions: 0 }).since({ gradEntries: 7, planScores: 1, policyActions: 0 })).toBeNull();
    const notes = new NumericFaultNotes();
    expect(notes.since({ gradEntries: 0, planScores: 0, policyActions: 0 })).toBeNull();
    expect(notes.since({ gradEntries: 12, planScores: 0, policyActions: 0 })).toMatch(/^numeric faults since the last log: 12 NaN\/Inf gradient entries zeroed before the optimizer step \(12 in this run\)\. Training continues/);
    expect(notes.since({ gradEntries: 12, planScores: 0, policyActions: 0 })).toBeNull();
    const both = notes.since({ gradEntries: 15, planScores: 4, policyActions: 0 })!;
    expect(both).toContain('3 NaN/Inf gradient entries zeroed before the optimizer step (15 in this run)');
    expect(both).toContain('4 planner candidates with a NaN/Inf score ranked last (4 in this run)');
    expect(both).toContain('lower lr');
    expect(notes.since({ gradEntries: 15, planScores: 4, policyActions: 2 })).toMatch(/^numeric faults since the last log: 2 NaN\/Inf policy actions replaced by the fallback \(2 in this run\)\. Training continues/);
  });
});

describe('DivergenceNotes', () => {
  it('warns once per log line about the divergences since the last one, from a resumed count', () => {
    const notes = new DivergenceNotes(3); // a resumed run: 3 reported before its checkpoint
    expect(notes.since(3, 'env 0: MuJoCo warning')).toBeNull();
    expect(notes.since(5, 'env 1: non-finite reward NaN')).toBe(
      '2 environment step(s) diverged in simulation since the last log (5 in this run; the latest: env 1: non-finite reward NaN): '
      + 'each ended its episode at the last valid state and was not stored');
    expect(notes.since(5)).toBeNull();
    expect(new DivergenceNotes().since(1)).toMatch(/^1 environment step\(s\) diverged in simulation since the last log \(1 in this run: MuJoCo reset the physics, or the observation or reward was not finite\): each ended/);
  });
});

/** An agent for cfg over a real vector env of eval_episodes, evaluated once while healthy. */
async function evaluatedAgent(cfg: Config) {
  const env = await VectorEnv.create(makeTask(cfg.task), cfg.eval_episodes, envOptionsFor(cfg));
  const derived = deriveConfig(cfg, { name: cfg.task, obsDim: env.obsDim, actionDim: env.actionDim, episodeLength: env.maxEpisodeSteps, episodic: false });
  const agent = new Agent(new JsEngine(), cfg, derived, cfg.eval_episodes);
  const healthy = (await evaluate(agent, { env, count: 0 }, cfg, derived))!;
  return { env, derived, agent, healthy };
}

describe('evaluation planner faults', () => {
  it('counts the evaluation planner\'s NaN/Inf scores in the eval metrics and keeps acting on finite actions', async () => {
    const cfg = loadConfig([
      'task=cartpole-swingup', 'model_size=null', 'enc_dim=32', 'mlp_dim=32', 'latent_dim=16', 'num_q=2',
      'num_samples=16', 'num_elites=4', 'num_pi_trajs=2', 'iterations=2', 'horizon=2', 'episode_length=20', 'eval_episodes=2',
    ]);
    const { env, derived, agent, healthy } = await evaluatedAgent(cfg);
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

describe('policy-prior faults', () => {
  const args = [
    'task=cartpole-swingup', 'model_size=null', 'enc_dim=32', 'mlp_dim=32', 'latent_dim=16', 'num_q=2', 'mpc=false',
    'horizon=2', 'episode_length=20', 'eval_episodes=2', 'num_envs=2',
  ];

  it('acts from mean 0 and max_std for a NaN observation row, counted by use, and leaves its finite neighbour\'s action as it was', () => {
    const cfg = loadConfig(args);
    const derived = deriveConfig(cfg, { name: cfg.task, obsDim: 5, actionDim: 1, episodeLength: 1000, episodic: false });
    const sick = new Agent(new JsEngine(), cfg, derived, 2);
    const healthy = new Agent(new JsEngine(), cfg, derived, 2);
    const obs = Float32Array.from([0.1, -0.2, 0.3, 0.05, -0.4, NaN, 0, 0, 0, 0]);
    const finiteObs = Float32Array.from([0.1, -0.2, 0.3, 0.05, -0.4, 0.2, 0.1, 0, 0, 0]);
    for (const evalMode of [false, true]) {
      const mine = sick.act(2, obs, evalMode);
      const ref = healthy.act(2, finiteObs, evalMode);
      // Row 0 is computed as with a finite neighbour (same draws: the noise counter is per element).
      expect(mine.action[0]).toBe(ref.action[0]);
      expect(mine.expertMean[0]).toBe(ref.expertMean[0]);
      expect(mine.expertStd[0]).toBe(ref.expertStd[0]);
      // Row 1: the fallback, in range, with its Gaussian as the expert.
      expect(mine.expertMean[1]).toBe(0);
      expect(mine.expertStd[1]).toBe(cfg.max_std);
      if (evalMode) expect(mine.action[1]).toBe(0);
      else expect(Number.isFinite(mine.action[1]) && Math.abs(mine.action[1]) <= 1 && mine.action[1] !== 0).toBe(true);
    }
    expect(sick.policyNonFiniteActions).toEqual({ acting: 1, eval: 1 });
    expect(sick.lastMetrics.policy_nonfinite_actions).toBe(1);
    expect(healthy.policyNonFiniteActions).toEqual({ acting: 0, eval: 0 });
  });

  it('counts a diverged policy\'s actions in the evaluation\'s metrics and finishes it on the fallback', async () => {
    const cfg = loadConfig(args);
    const { env, derived, agent, healthy } = await evaluatedAgent(cfg);
    expect(healthy.metrics.policy_nonfinite_actions).toBe(0);
    expect(evaluationFaultNote(0, healthy.metrics)).toBeNull();
    const { offset, length } = agent.model.seg.policy;
    agent.model.params.fill(NaN, offset, offset + length);
    const sick = (await evaluate(agent, { env, count: 1 }, cfg, derived))!;
    expect(sick.metrics.policy_nonfinite_actions).toBe(20 * 2); // every step of both episodes
    expect(Number.isFinite(sick.reward)).toBe(true);
    expect(evaluationFaultNote(2500, sick.metrics)).toMatch(/^numeric faults in the evaluation at step 2500: 40 NaN\/Inf policy actions replaced by the fallback \(mean 0\)/);
    env.dispose();
  });
});
