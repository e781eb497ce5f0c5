// `tdmpc bench env` (options: USAGE)
//
// Measures, in the same run and thread, (a) agent steps per second of a VectorEnv (action scaling,
// action repeat, task reward and observation, time limit, auto-reset) and (b) raw mj_step calls
// per second of the same models, fed the same kind of controls.
//
// overhead = (time in wrappers and task code) / (time in MuJoCo stepping), measured inside the env
// run: each Physics.step call is timed (two clock reads per control step, ~0.1 µs against tens of
// µs of physics) and everything else in VectorEnv.step is wrapper/task time. A subtraction against
// the raw phase would mostly measure how contact-rich the visited states are (a random walker spends
// its episodes falling from fresh, randomised poses; the raw phase continues wherever the envs
// were), so it is reported only for reference as overhead_vs_raw. Target: overhead <= 0.10 on
// walker-walk. Phases alternate for `rounds` rounds after one warm-up round; the fastest counts.
import { CliError } from '../errors.js';
import type { BenchArgs } from './index.js';
import { RngStream } from '../engine/rng.js';
import { makeTask } from '../envs/registry.js';
import { VectorEnv } from '../envs/vector-env.js';

export const USAGE = 'tdmpc bench env [--task walker-walk] [--envs 8] [--steps 1000] [--rounds 3] [--json]';

function intFlag(flags: BenchArgs['flags'], name: string, fallback: number): number {
  const v = flags[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--${name} needs a positive integer (got '${String(v)}')`);
  return n;
}

export async function bench(args: BenchArgs): Promise<Record<string, unknown>> {
  const taskName = typeof args.flags.task === 'string' ? args.flags.task : 'walker-walk';
  const numEnvs = intFlag(args.flags, 'envs', 8);
  const steps = intFlag(args.flags, 'steps', 1000); // agent steps per env per round
  const rounds = intFlag(args.flags, 'rounds', 3);
  const spec = makeTask(taskName);
  const venv = await VectorEnv.create(spec, numEnvs, { seed: 0 });
  try {
    const { actionDim, obsDim } = venv;
    const env0 = venv.envs[0];
    const physicsPerAgentStep = env0.actionRepeat * env0.nSubSteps;

    // A pool of random action batches, drawn before timing.
    const POOL = 64;
    const rng = new RngStream(7);
    const pool = new Float32Array(POOL * numEnvs * actionDim);
    for (let i = 0; i < pool.length; i++) pool[i] = 2 * rng.uniform() - 1;
    const batches = Array.from({ length: POOL }, (_, k) => pool.subarray(k * numEnvs * actionDim, (k + 1) * numEnvs * actionDim));

    // Time every Physics.step call of the env run (instance override; the class is untouched).
    let physicsMsInEnv = 0;
    for (const env of venv.envs) {
      const physics = env.physics;
      const step = physics.step.bind(physics);
      physics.step = (nstep?: number) => {
        const t = performance.now();
        step(nstep);
        physicsMsInEnv += performance.now() - t;
      };
    }

    venv.reset(0);
    let bestOverhead = Infinity;
    let bestEnv = Infinity;
    let bestRaw = Infinity;
    for (let round = 0; round <= rounds; round++) {
      // (a) vectorized environment
      physicsMsInEnv = 0;
      let t0 = performance.now();
      for (let s = 0; s < steps; s++) venv.step(batches[s % POOL]);
      const envMs = performance.now() - t0;
      const overhead = (envMs - physicsMsInEnv) / physicsMsInEnv;

      // (b) raw mj_step on the same models, from the states the envs are in, same controls.
      t0 = performance.now();
      for (let i = 0; i < numEnvs; i++) {
        const physics = venv.envs[i].physics;
        const mj = physics.mj;
        const model = physics.model;
        const data = physics.data;
        for (let s = 0; s < steps; s++) {
          const ctrl = physics.ctrl;
          const a = batches[s % POOL];
          for (let j = 0; j < actionDim; j++) ctrl[j] = a[i * actionDim + j];
          for (let k = 0; k < physicsPerAgentStep; k++) mj.mj_step(model, data);
        }
      }
      const rawMs = performance.now() - t0;
      // The raw phase left the envs mid-episode in arbitrary states: start clean for the next round.
      venv.reset(round + 1);
      if (round === 0) continue; // warm-up round
      bestEnv = Math.min(bestEnv, envMs);
      bestRaw = Math.min(bestRaw, rawMs);
      bestOverhead = Math.min(bestOverhead, overhead);
      if (!args.json) {
        console.log(`round ${round}: env ${envMs.toFixed(1)} ms (physics ${physicsMsInEnv.toFixed(1)} ms, overhead ${overhead.toFixed(4)}), raw mj_step ${rawMs.toFixed(1)} ms`);
      }
    }
    const agentSteps = steps * numEnvs;
    const physicsSteps = agentSteps * physicsPerAgentStep;
    const agentStepsPerS = agentSteps / (bestEnv / 1000);
    const mjStepsPerS = physicsSteps / (bestRaw / 1000);
    const physicsMs = (physicsSteps / mjStepsPerS) * 1000;
    return {
      bench: 'env',
      task: taskName,
      envs: numEnvs,
      obs_dim: obsDim,
      action_dim: actionDim,
      steps_per_env: steps,
      physics_steps_per_agent_step: physicsPerAgentStep,
      agent_steps_per_s: Math.round(agentStepsPerS),
      mj_steps_per_s: Math.round(mjStepsPerS),
      overhead: Number(bestOverhead.toFixed(4)),
      overhead_vs_raw: Number(((bestEnv - physicsMs) / physicsMs).toFixed(4)),
    };
  } finally {
    venv.dispose();
  }
}
