// Evaluation: eval_episodes episodes run side by side (one VectorEnv, batched greedy planning),
// optionally with the policy prior alone (eval_pi) and with value accuracy (eval_value: the
// model's value of each visited state vs the discounted return that actually followed).
import type { Config } from '../config/schema.js';
import type { Derived } from '../config/derive.js';
import type { VectorEnv } from '../envs/vector-env.js';
import type { Agent } from '../agent/agent.js';
import { yieldToEventLoop } from './event-loop.js';

export interface EvalEnvs {
  /** eval_episodes environments, one episode each per evaluation. */
  env: VectorEnv;
  /** Evaluations run so far (seeds each evaluation's episodes differently but reproducibly). */
  count: number;
}

export interface EvalResult {
  reward: number;
  /** Each episode's return (the planner's, or the policy's where that is the acting mode). */
  returns: number[];
  metrics: Record<string, number>;
  summary: string;
}

type Mode = 'plan' | 'pi';

async function runEpisodes(agent: Agent, evalEnvs: EvalEnvs, mode: Mode, cfg: Config, derived: Derived, valueLog: boolean, shouldStop?: () => boolean) {
  const env = evalEnvs.env;
  const N = env.numEnvs;
  env.reset((cfg.seed * 1_000_003 + 0x5eed0000 + evalEnvs.count) >>> 0);
  agent.resetEvalEpisodes();
  const done = new Uint8Array(N);
  const returns = new Float64Array(N);
  const T = derived.episodeLength;
  const predicted = valueLog ? new Float32Array(N * T) : null; // [N, T] value of each visited state
  const rewards = valueLog ? new Float32Array(N * T) : null; // [N, T]
  const lengths = new Int32Array(N);
  const pred = new Float32Array(N);
  let remaining = N;
  while (remaining > 0) {
    if (shouldStop) {
      await yieldToEventLoop();
      if (shouldStop()) return null;
    }
    if (predicted) {
      agent.predictValue(N, env.obs, pred);
      for (let i = 0; i < N; i++) if (!done[i] && lengths[i] < T) predicted[i * T + lengths[i]] = pred[i];
    }
    const action = mode === 'plan' ? agent.act(N, env.obs, true).action : agent.actPolicy(N, env.obs);
    env.step(action);
    for (let i = 0; i < N; i++) {
      if (done[i]) continue;
      if (rewards && lengths[i] < T) rewards[i * T + lengths[i]] = env.reward[i];
      lengths[i]++;
      if (env.terminated[i] || env.truncated[i]) {
        done[i] = 1;
        returns[i] = env.finishedReturn[i];
        remaining--;
      }
    }
  }
  let mean = 0;
  for (let i = 0; i < N; i++) mean += returns[i] / N;
  const out: Record<string, number> = {};
  if (predicted && rewards) {
    // Realized discounted return-to-go from each state of the first half of each episode (the
    // second half's returns are cut short by the time limit, which the value does not know).
    const g = derived.discount;
    let err = 0, sumPred = 0, sumReal = 0, count = 0;
    for (let i = 0; i < N; i++) {
      const L = Math.min(lengths[i], T);
      let G = 0;
      const rtg = new Float64Array(L);
      for (let t = L - 1; t >= 0; t--) { G = rewards[i * T + t] + g * G; rtg[t] = G; }
      for (let t = 0; t < Math.floor(L / 2); t++) {
        err += Math.abs(predicted[i * T + t] - rtg[t]);
        sumPred += predicted[i * T + t];
        sumReal += rtg[t];
        count++;
      }
    }
    if (count > 0) {
      out.value_predicted = sumPred / count;
      out.value_realized = sumReal / count;
      out.value_abs_error = err / count;
    }
  }
  return { mean, returns, extra: out };
}

/**
 * One evaluation. With shouldStop (the synchronous trainer's Ctrl-C), it is checked every step and
 * a stop cancels the evaluation: the result is null and nothing counts as evaluated.
 */
export async function evaluate(agent: Agent, evalEnvs: EvalEnvs, cfg: Config, derived: Derived, shouldStop?: () => boolean): Promise<EvalResult | null> {
  const nonFiniteBefore = agent.evalPlanner.nonFiniteScores;
  const policyNonFiniteBefore = agent.policyNonFiniteActions.eval;
  const planner = await runEpisodes(agent, evalEnvs, cfg.mpc ? 'plan' : 'pi', cfg, derived, cfg.eval_value, shouldStop);
  if (planner === null) return null;
  // Contained like the acting planner's (ranked last), and counted so a diverging model shows here too.
  const planNonFinite = agent.evalPlanner.nonFiniteScores - nonFiniteBefore;
  const metrics: Record<string, number> = { episode_reward: planner.mean, ...planner.extra, plan_nonfinite_scores: planNonFinite };
  let summary = '';
  if (cfg.eval_pi) {
    const pi = await runEpisodes(agent, evalEnvs, 'pi', cfg, derived, false, shouldStop);
    if (pi === null) return null;
    metrics.pi_episode_reward = pi.mean;
    summary += `policy only ${pi.mean.toFixed(1)}`;
  }
  // Policy-prior actions (mpc=false, or eval_pi) that were NaN/Inf and acted from the fallback.
  metrics.policy_nonfinite_actions = agent.policyNonFiniteActions.eval - policyNonFiniteBefore;
  if (planner.extra.value_abs_error !== undefined) {
    summary += `${summary ? ' | ' : ''}value pred ${planner.extra.value_predicted.toFixed(1)} vs real ${planner.extra.value_realized.toFixed(1)}`;
  }
  evalEnvs.count++;
  return { reward: planner.mean, returns: Array.from(planner.returns), metrics, summary };
}
