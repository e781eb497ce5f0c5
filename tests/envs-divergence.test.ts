// A simulation that diverges (MuJoCo resets it inside mj_step and counts mjWARN_BADQVEL / BADQACC,
// or the observation is not finite) ends its episode at the last valid state: the environment
// reports `diverged` (truncated, reward 0), and the trainer stores the step's starting observation
// as the episode's final one, so the teleport to qpos0 is never a transition in the replay; in
// both runtimes (the threaded one loads the task in its actor thread from a task_module).
// The test task injects the fault itself: at agent step FAULT_STEP of every episode its reward
// function sets a velocity of 1e11 (> mjMAXVAL), which the next physics step rejects.
import { describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defineTask, type TaskSpec } from '../src/envs/task.js';
import { TaskEnv } from '../src/envs/env.js';
import { VectorEnv } from '../src/envs/vector-env.js';
import { registerTask } from '../src/envs/registry.js';
import { runTraining } from '../src/trainer/run.js';
import { readCheckpoint } from '../src/checkpoint/checkpoint-file.js';
import { FLAG_LAST } from '../src/replay/replay-buffer.js';
import { workDir } from './fixtures/runtime/args.js';

const XML = `<mujoco><option timestep="0.01"/><worldbody><body name="b"><joint name="x" type="slide" axis="1 0 0"/>
  <geom type="sphere" size="0.1" mass="1"/></body></worldbody>
  <actuator><motor joint="x" gear="1" ctrlrange="-1 1" ctrllimited="true"/></actuator></mujoco>`;
const CONTROL_DT = 0.02; // 2 physics steps per control step; agent step = 2 control steps (repeat 2)
const FAULT_STEP = 7; // agent step of each episode whose simulation diverges (when faults are on)

/**
 * A slider whose observation carries the simulation clock: a reset shows as time going back. With
 * `nanReward` the fault is a NaN reward at the faulty steps instead (a custom task's bug).
 */
function faultyTask(name: string, fault: (episodeStep: number) => boolean, nanReward = false): TaskSpec {
  return defineTask({
    name,
    model: XML,
    controlTimestep: CONTROL_DT,
    timeLimit: 0.8, // 20 agent steps
    observation: { position: 1, velocity: 1, time: 1 },
    episodic: false,
    create: (physics) => {
      let controlSteps = 0;
      return {
        initializeEpisode: (p, rng) => {
          controlSteps = 0;
          p.qpos[0] = 0.1 * rng.normal();
        },
        getObservation: (p, out, o) => {
          out[o] = p.qpos[0];
          out[o + 1] = p.qvel[0];
          out[o + 2] = p.time;
        },
        getReward: (p) => {
          controlSteps++;
          // After the first control step of agent step k (1-based), so its second one diverges.
          const faulty = controlSteps % 2 === 1 && fault((controlSteps + 1) / 2);
          if (faulty && nanReward) return NaN;
          if (faulty) p.qvel[0] = 1e11;
          return 1;
        },
      };
    },
  });
}

describe('simulation divergence', () => {
  it('TaskEnv: the diverging step ends the episode (truncated, reward 0) and says what MuJoCo reported', async () => {
    const env = await TaskEnv.create(faultyTask('diverge-env', (k) => k === FAULT_STEP));
    const obs = new Float32Array(env.obsDim);
    env.reset(obs, 0, 1);
    for (let k = 1; k < FAULT_STEP; k++) {
      expect(env.step([0.3], obs)).toBe(2);
      expect(env.diverged).toBe(false);
      expect(obs[2]).toBeCloseTo(k * 2 * CONTROL_DT, 6); // float32
    }
    expect(env.step([0.3], obs)).toBe(0);
    expect(env.diverged).toBe(true);
    expect(env.truncated).toBe(true);
    expect(env.terminated).toBe(false);
    expect(env.episodeReturn).toBe(2 * (FAULT_STEP - 1)); // the diverged step adds nothing
    expect(env.divergence).toMatch(/task 'diverge-env': the simulation diverged at episode step 7 \(MuJoCo warning mjWARN_BADQVEL.*simulation reset by MuJoCo; clock/);
    expect(() => env.step([0], obs)).toThrow(/call reset\(\) first/);
    env.reset(obs, 0, 2);
    expect(env.diverged).toBe(false);
    expect(env.divergence).toBe('');
    env.dispose();
  });

  it('TaskEnv: a divergence on an episode\'s first step is caught too', async () => {
    // At agent step 1 the reset happens in the second control step: the clock check sees it; the
    // first-step warning check covers a reset that would leave the clock where it should be.
    const env = await TaskEnv.create(faultyTask('diverge-first', (k) => k === 1));
    const obs = new Float32Array(env.obsDim);
    env.reset(obs, 0, 1);
    expect(env.step([0], obs)).toBe(0);
    expect(env.diverged).toBe(true);
    expect(env.divergence).toMatch(/at episode step 1 .*mjWARN_BADQVEL/);
    env.dispose();
  });

  it('TaskEnv: a non-finite reward ends the episode the same way, and is never returned', async () => {
    const env = await TaskEnv.create(faultyTask('nan-reward-env', (k) => k === FAULT_STEP, true));
    const obs = new Float32Array(env.obsDim);
    env.reset(obs, 0, 1);
    for (let k = 1; k < FAULT_STEP; k++) expect(env.step([0.3], obs)).toBe(2);
    expect(env.step([0.3], obs)).toBe(0);
    expect(env.diverged).toBe(true);
    expect(env.truncated).toBe(true);
    expect(env.episodeReturn).toBe(2 * (FAULT_STEP - 1));
    expect(env.divergence).toMatch(/at episode step 7 \(non-finite reward NaN\)/);
    env.dispose();
  });

  it('VectorEnv: only the diverged env ends its episode; its final observation row is NaN', async () => {
    const venv = await VectorEnv.create(faultyTask('diverge-vec', (k) => k === FAULT_STEP), 2, { seed: 5 });
    // Env 1 starts its episode one step later, so only env 0 diverges at the 7th vector step.
    venv.reset();
    venv.step([0, 0]);
    venv.envs[1].reset(venv.obs, venv.obsDim, 9);
    for (let k = 2; k < FAULT_STEP; k++) {
      venv.step([0, 0]);
      expect(Array.from(venv.diverged)).toEqual([0, 0]);
    }
    venv.step([0.5, -0.5]);
    expect(Array.from(venv.diverged)).toEqual([1, 0]);
    expect(Array.from(venv.truncated)).toEqual([1, 0]);
    expect(venv.reward[0]).toBe(0);
    expect(venv.finishedReturn[0]).toBe(2 * (FAULT_STEP - 1));
    expect(Array.from(venv.finalObs.subarray(0, 3)).every(Number.isNaN)).toBe(true);
    expect(venv.obs[2]).toBe(0); // env 0 auto-reset: the next episode's first observation
    expect(venv.divergence[0]).toMatch(/diverged at episode step 7/);
    venv.step([0, 0]);
    expect(Array.from(venv.diverged)).toEqual([0, 1]);
    venv.dispose();
  });

  it('sync training: diverged steps are counted, and no stored transition crosses a reset', async () => {
    registerTask(faultyTask('diverge-train', (k) => k === FAULT_STEP), { replace: true });
    const steps = 240;
    const warnings: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((line: unknown) => { warnings.push(String(line)); });
    const run = await runTraining([
      'task=diverge-train', `steps=${steps}`, 'seed_steps=100', 'pretrain_updates=5', 'runtime=sync', 'learner_threads=1', 'metrics.port=0',
      'model_size=null', 'enc_dim=16', 'mlp_dim=16', 'latent_dim=8', 'num_q=2', 'num_samples=16', 'num_elites=4',
      'num_pi_trajs=2', 'iterations=1', 'batch_size=8', 'horizon=3', 'eval_episodes=0', 'log_freq=120',
      'checkpoint_freq=0', 'progress=false', 'seed=3', `work_dir=${workDir('diverge')}`,
    ]).finally(() => spy.mockRestore());
    // Every episode diverges at its 7th step: 240 steps = 34 episodes of 7 steps + 2 steps.
    const episodes = Math.floor(steps / FAULT_STEP);
    expect(run.state.episodes).toBe(episodes);
    expect((run.state as { divergences: number }).divergences).toBe(episodes);
    // Reported on stderr although progress=false: one line per log interval (log_freq 120: 2 lines), naming MuJoCo's reason.
    const reported = warnings.filter((w) => w.includes('diverged in simulation'));
    expect(reported).toHaveLength(2);
    expect(reported[1]).toMatch(new RegExp(`\\(${episodes} in this run; the latest: env 0: `));
    const c = readCheckpoint(path.join(run.dir, 'checkpoints', 'final.ckpt'));
    const head = (c.sections['replay.header'] as Int32Array)[0]!;
    const obs = c.sections['replay.obs'] as Float32Array;
    const flags = c.sections['replay.flags'] as Uint8Array;
    const episode = c.sections['replay.episode'] as Int32Array;
    const reward = c.sections['replay.reward'] as Float32Array;
    // Each episode: 6 transitions, then its 7th observation (o_6, before the diverged step) as LAST.
    expect(head).toBe(episodes * FAULT_STEP + (steps - episodes * FAULT_STEP));
    let lasts = 0;
    for (let s = 0; s + 1 < head; s++) {
      if (flags[s]! & FLAG_LAST) {
        lasts++;
        expect(obs[s * 3 + 2]).toBeCloseTo((FAULT_STEP - 1) * 2 * CONTROL_DT, 6); // the last valid state
        continue;
      }
      expect(reward[s]).toBe(2);
      if (episode[s + 1] === episode[s]) expect(obs[(s + 1) * 3 + 2] - obs[s * 3 + 2]).toBeCloseTo(2 * CONTROL_DT, 6);
    }
    expect(lasts).toBe(episodes);
  });
  it('threaded training (actors in worker threads, task from a task_module): the same, and counted in metrics.jsonl', () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    const dir = workDir('diverge-threads');
    const module = path.join(dir, 'diverging.mjs');
    // The JavaScript twin of faultyTask('diverge-threads', k => k === FAULT_STEP).
    writeFileSync(module, [
      `import { defineTask, registerTask } from '${pathToFileURL(path.join(root, 'dist', 'src', 'envs', 'index.js')).href}';`,
      'registerTask(defineTask({',
      `  name: 'diverge-threads', model: ${JSON.stringify(XML)}, controlTimestep: ${CONTROL_DT}, timeLimit: 0.8,`,
      '  observation: { position: 1, velocity: 1, time: 1 }, episodic: false,',
      '  create: () => {',
      '    let controlSteps = 0;',
      '    return {',
      '      initializeEpisode(p, rng) { controlSteps = 0; p.qpos[0] = 0.1 * rng.normal(); },',
      '      getObservation(p, out, o) { out[o] = p.qpos[0]; out[o + 1] = p.qvel[0]; out[o + 2] = p.time; },',
      `      getReward(p) { controlSteps++; if (controlSteps % 2 === 1 && (controlSteps + 1) / 2 === ${FAULT_STEP}) p.qvel[0] = 1e11; return 1; },`,
      '    };',
      '  },',
      '}));',
    ].join('\n'));
    const steps = 240;
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'tdmpc.js'), 'train', `task_module=${module}`, 'task=diverge-threads',
      'runtime=threads', 'actors=1', `steps=${steps}`, 'seed_steps=100', 'pretrain_updates=5', 'model_size=null', 'enc_dim=16', 'mlp_dim=16',
      'latent_dim=8', 'num_q=2', 'num_samples=16', 'num_elites=4', 'num_pi_trajs=2', 'iterations=1', 'batch_size=8', 'horizon=3',
      'eval_episodes=0', 'log_freq=120', 'checkpoint_freq=0', 'metrics=false', 'progress=false', `work_dir=${dir}`], { encoding: 'utf8', timeout: 180_000 });
    expect(r.status, r.stderr).toBe(0);
    // Reported on stderr even with progress=false (one line per log interval).
    expect(r.stderr).toMatch(/tdmpc: \d+ environment step\(s\) diverged in simulation since the last log/);
    const run = path.join(dir, 'diverge-threads', 'tdmpc2', 'default', 'seed-1');
    const episodes = Math.floor(steps / FAULT_STEP);
    const lines = readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    const last = lines.filter((l) => l.kind === ('train' as unknown as number)).pop()!;
    expect(last.physics_divergences).toBe(episodes);
    // Numeric faults are reported beside divergences (none in this run: the diverged steps were not stored).
    expect(last.nonfinite_grads_total).toBe(0);
    expect(last.plan_nonfinite_scores).toBe(0);
    expect(last.reanalysis_nonfinite_scores).toBe(0);
    const c = readCheckpoint(path.join(run, 'checkpoints', 'final.ckpt'));
    const head = (c.sections['replay.header'] as Int32Array)[0]!;
    const obs = c.sections['replay.obs'] as Float32Array;
    const flags = c.sections['replay.flags'] as Uint8Array;
    const episode = c.sections['replay.episode'] as Int32Array;
    expect(head).toBe(steps);
    let lasts = 0;
    for (let s = 0; s + 1 < head; s++) {
      if (flags[s]! & FLAG_LAST) {
        lasts++;
        expect(obs[s * 3 + 2]).toBeCloseTo((FAULT_STEP - 1) * 2 * CONTROL_DT, 6);
      } else if (episode[s + 1] === episode[s]) {
        expect(obs[(s + 1) * 3 + 2] - obs[s * 3 + 2]).toBeCloseTo(2 * CONTROL_DT, 6);
      }
    }
    expect(lasts).toBe(episodes);
  });
});
