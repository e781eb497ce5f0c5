// Evaluation task for the piscina pool (main thread: src/runtime/evaluator.ts). Evaluations are
// independent, occasional jobs, which is what a task pool is for: each task copies the newest
// parameter snapshot and runs eval_episodes greedy episodes beside training, with the
// synchronous loop's evaluate(). The agent and environments are built once per pool thread.
import { workerData } from 'piscina';
import { createEngine } from '../src/engine/index.js';
import { VectorEnv } from '../src/envs/vector-env.js';
import { makeTask } from '../src/envs/registry.js';
import { loadTaskModule } from '../src/envs/task-module.js';
import { envOptionsFor } from '../src/config/derive.js';
import { Agent } from '../src/agent/agent.js';
import { evaluate } from '../src/trainer/evaluate.js';
import { ParamSnapshot } from '../src/runtime/param-snapshot.js';
import type { EvalTask, EvalTaskResult, RunPlan } from '../src/runtime/control.js';
import type { SnapshotBuffers } from '../src/runtime/param-snapshot.js';

interface EvalWorkerData extends RunPlan {
  snapshot: SnapshotBuffers;
}

const data = workerData as EvalWorkerData;

async function build(): Promise<{ agent: Agent; env: VectorEnv; snapshot: ParamSnapshot }> {
  const { cfg, derived } = data;
  await loadTaskModule(cfg.task_module); // custom tasks: this thread's registry
  const env = await VectorEnv.create(makeTask(cfg.task), cfg.eval_episodes, envOptionsFor(cfg));
  const engine = createEngine({ threads: 1 });
  const agent = new Agent(engine, cfg, derived, Math.max(cfg.num_envs, cfg.eval_episodes));
  return { agent, env, snapshot: new ParamSnapshot(data.snapshot, engine) };
}

let ready: ReturnType<typeof build> | null = null;

/**
 * Builds the agent and environments ahead of the first evaluation (Evaluator.warmUp), so that an
 * evaluation reads the snapshot when it is submitted, not a build's second later: the step-0
 * evaluation of a small model otherwise ran on parameters already past the pretraining updates.
 */
export async function warmUp(): Promise<void> {
  await (ready ??= build());
}

export default async function evaluateTask(task: EvalTask): Promise<EvalTaskResult> {
  const { agent, env, snapshot } = await (ready ??= build());
  const version = snapshot.read(agent.model.params, agent.model.valueTarget);
  const r = (await evaluate(agent, { env, count: task.index }, data.cfg, data.derived))!; // no stop hook: never null
  return { reward: r.reward, metrics: r.metrics, summary: r.summary, version };
}
