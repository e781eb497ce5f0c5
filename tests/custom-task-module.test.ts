// Custom tasks in the threaded runtime and from the CLI: task_module=<file> is imported by the main
// thread and by every worker that makes environments (each thread has its own task registry), and
// is saved with the run, so resume= and `tdmpc eval` find the task too. A task registered only in
// the calling thread is refused up front under runtime=threads, saying what to do.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runTraining } from '../src/trainer/run.js';
import { registerTask } from '../src/envs/registry.js';
import { defineTask } from '../src/envs/task.js';
import { ConfigError } from '../src/errors.js';
import { workDir } from './fixtures/runtime/args.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tdmpc = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [path.join(root, 'bin', 'tdmpc.js'), ...args], { encoding: 'utf8', cwd, timeout: 180_000 });

const XML = `<mujoco><option timestep="0.01"/><worldbody><body name="b"><joint name="x" type="slide" axis="1 0 0"/>
  <geom type="sphere" size="0.1" mass="1"/></body></worldbody>
  <actuator><motor joint="x" gear="1" ctrlrange="-1 1" ctrllimited="true"/></actuator></mujoco>`;

const TINY = [
  'model_size=null', 'enc_dim=16', 'mlp_dim=16', 'latent_dim=8', 'num_q=2', 'num_samples=16', 'num_elites=4',
  'num_pi_trajs=2', 'iterations=1', 'batch_size=8', 'seed_steps=100', 'pretrain_updates=5', 'eval_freq=150',
  'eval_episodes=2', 'checkpoint_freq=0', 'progress=false', 'metrics=false',
];

describe('custom tasks from a task_module', () => {
  it('trains in worker threads from the CLI, and resume= and tdmpc eval load the module too', () => {
    const dir = workDir('task-module');
    const module = path.join(dir, 'my-tasks.mjs');
    writeFileSync(module, [
      `import { defineTask, registerTask } from '${pathToFileURL(path.join(root, 'dist', 'src', 'envs', 'index.js')).href}';`,
      'registerTask(defineTask({',
      `  name: 'slider-home', model: ${JSON.stringify(XML)}, controlTimestep: 0.02, timeLimit: 1,`,
      '  observation: { position: 1, velocity: 1 },',
      '  create: () => ({',
      '    initializeEpisode(p, rng) { p.qpos[0] = 0.5 * (2 * rng.uniform() - 1); },',
      '    getObservation(p, out, o) { out[o] = p.qpos[0]; out[o + 1] = p.qvel[0]; },',
      '    getReward(p) { return 1 - Math.min(1, Math.abs(p.qpos[0])); },',
      '  }),',
      '}));',
    ].join('\n'));
    // Relative path from the run's cwd; saved absolute.
    const train = tdmpc(dir, 'train', 'task_module=my-tasks.mjs', 'task=slider-home', 'runtime=threads', 'steps=300', ...TINY);
    expect(train.status, train.stderr).toBe(0);
    const run = path.join(dir, 'runs', 'slider-home', 'tdmpc2', 'default', 'seed-1');
    const evalCsv = readFileSync(path.join(run, 'eval.csv'), 'utf8').trim().split('\n');
    // Evaluations ran in their worker: steps 0 and 300, and 150 unless the step-0 evaluation was
    // still running then (the threaded runtime skips a due evaluation while one runs; on a loaded
    // host this 1 s run can pass step 150 meanwhile).
    const evalSteps = evalCsv.slice(1).map((l) => Number(l.split(',')[0]));
    expect([evalSteps[0], evalSteps[evalSteps.length - 1]]).toEqual([0, 300]);
    expect(readFileSync(path.join(run, 'config.yaml'), 'utf8')).toContain(`task_module: ${JSON.stringify(module)}`);
    const ckpt = path.join(run, 'checkpoints', 'final.ckpt');
    expect(existsSync(ckpt)).toBe(true);

    const resumed = tdmpc(root, 'train', `resume=${ckpt}`, 'steps=400', 'progress=false');
    expect(resumed.status, resumed.stderr).toBe(0);
    const evaluated = tdmpc(root, 'eval', `checkpoint=${path.join(run, 'checkpoints', 'final.ckpt')}`, 'episodes=2', 'threads=1', '--json');
    expect(evaluated.status, evaluated.stderr).toBe(0);
    const out = JSON.parse(evaluated.stdout.trim().split('\n').pop()!) as { task: string; step: number; returns: number[] };
    expect(out.task).toBe('slider-home');
    expect(out.step).toBe(400);
    expect(out.returns.length).toBe(2);
  });

  it('refuses bad task modules, and a thread-local task under runtime=threads, before any work', async () => {
    const dir = workDir('task-module-bad');
    const missing = tdmpc(dir, 'train', 'task_module=nope.mjs', 'task=slider-home');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/task_module '\S*\/nope.mjs' does not exist; pass the path of a .js\/.mjs file that calls registerTask/);
    writeFileSync(path.join(dir, 'broken.mjs'), 'this is not javascript (');
    const broken = tdmpc(dir, 'train', 'task_module=broken.mjs', 'task=slider-home');
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/task_module '\S*\/broken.mjs' failed to load: .*must be JavaScript/);

    registerTask(defineTask({
      name: 'local-slider', model: XML, controlTimestep: 0.02, timeLimit: 1, observation: { position: 1, velocity: 1 },
      create: () => ({ initializeEpisode() {}, getObservation(p, out, o) { out[o] = p.qpos[0]; out[o + 1] = p.qvel[0]; }, getReward: () => 1 }),
    }), { replace: true });
    const work = workDir('task-local');
    await expect(runTraining(['task=local-slider', 'runtime=threads', ...TINY, `work_dir=${work}`])).rejects.toThrow(ConfigError);
    await expect(runTraining(['task=local-slider', 'runtime=threads', ...TINY, `work_dir=${work}`]))
      .rejects.toThrow(/task 'local-slider' was registered in this thread \(registerTask\), but runtime=threads .*task_module=<file>.*or use runtime=sync/);
    expect(existsSync(path.join(work, 'local-slider'))).toBe(false);
    // The synchronous loop runs in this thread and sees it.
    const sync = await runTraining(['task=local-slider', 'runtime=sync', 'steps=150', 'learner_threads=1', ...TINY, `work_dir=${work}`]);
    expect(sync.state.step).toBe(150);
  });
});
