// The run folder of a fresh run: a second fresh run with the same task/algo/exp_name/seed used to
// replace eval.csv and metrics.jsonl silently while the first run's checkpoints stayed beside its
// own (latest.ckpt then pointed into a different run than eval.csv). It is now refused before any
// work unless overwrite=true, which starts clean. A work_dir under /proc used to hang forever in
// Node's recursive mkdir.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { runTraining } from '../src/trainer/run.js';
import { ConfigError } from '../src/errors.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';

const TINY_SYNC = [
  ...TINY_THREADS.filter((a) => a !== 'runtime=threads'), 'runtime=sync', 'eval_freq=100',
];
const folderOf = (work: string) => path.join(work, 'cartpole-swingup', 'tdmpc2', 'default', 'seed-1');
const evalSteps = (dir: string) => readFileSync(path.join(dir, 'eval.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));
/** Every file of the folder with its size and modification time: "nothing was touched". */
function listing(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = `${s.size}@${s.mtimeMs}`;
    }
  };
  walk(dir);
  return out;
}

describe('a fresh run into a folder that holds an earlier run', () => {
  for (const runtime of ['sync', 'threads'] as const) {
    it(`${runtime}: is refused before any work, then overwrite=true replaces the earlier run`, async () => {
      const work = workDir(`folder-${runtime}`);
      const base = runtime === 'sync' ? TINY_SYNC : TINY_THREADS;
      const args = [...base, `work_dir=${work}`];
      const first = await runTraining([...args, 'steps=300', 'checkpoint_freq=100']);
      const dir = folderOf(work);
      expect(first.dir).toBe(dir);
      const before = listing(dir);
      // step-100, step-200, final, latest. The threaded runtime's periodic ones fall a few steps
      // past the multiples (its supervision loop wakes when the actors commit them).
      const checkpoints = Object.keys(before).filter((f) => f.startsWith('checkpoints/')).length;
      expect(checkpoints).toBe(4);
      expect(before['checkpoints/final.ckpt']).toBeDefined();

      const again = runTraining([...args, 'steps=150']);
      await expect(again).rejects.toThrow(ConfigError);
      await expect(again).rejects.toThrow(new RegExp(`^run folder ${dir} already holds an earlier run \\(eval.csv with \\d+ evaluation\\(s\\), metrics.jsonl, ${checkpoints} checkpoint file\\(s\\)\\): `
        + `continue it with resume=${path.join(dir, 'checkpoints', 'latest.ckpt')}, start a separate run with another exp_name= or seed=, or replace it with overwrite=true$`));
      expect(listing(dir)).toEqual(before);

      // overwrite=true: the earlier run's results are gone, not mixed with the new one's.
      const second = await runTraining([...args, 'steps=150', 'overwrite=true']);
      expect(second.state.step).toBe(150);
      expect(readdirSync(path.join(dir, 'checkpoints')).sort()).toEqual(['final.ckpt', 'latest.ckpt']);
      expect(evalSteps(dir).every((s) => s <= 150)).toBe(true);
      const steps = readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
      expect(Math.max(...steps)).toBeLessThanOrEqual(150);
      expect(readFileSync(path.join(dir, 'config.yaml'), 'utf8')).toContain('overwrite: true');

      // overwrite=true starts a run; resume= continues one: both at once is refused. A run that
      // began with overwrite=true resumes as usual (its config says how it began).
      const ckpt = path.join(dir, 'checkpoints', 'final.ckpt');
      const both = runTraining([`resume=${ckpt}`, 'steps=200', 'overwrite=true']);
      await expect(both).rejects.toThrow(ConfigError);
      await expect(both).rejects.toThrow(`overwrite=true starts a fresh run over the run folder, but resume= continues the run of checkpoint '${ckpt}': pass one of them`);
      const resumed = await runTraining([`resume=${ckpt}`, 'steps=200']);
      expect(resumed.state.step).toBe(200);
      expect(readdirSync(path.join(dir, 'checkpoints')).sort()).toEqual(['final.ckpt', 'latest.ckpt']);
      expect(readFileSync(path.join(dir, 'config.yaml'), 'utf8')).toContain('overwrite: false');
    }, 240_000);
  }

  it('a folder without results (a run refused before its first log line, or only crash events) is reused', async () => {
    const work = workDir('folder-empty');
    const dir = folderOf(work);
    mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
    writeFileSync(path.join(dir, 'config.yaml'), '# left by a refused run\n');
    writeFileSync(path.join(dir, 'eval.csv'), 'step,reward,seed\n');
    writeFileSync(path.join(dir, 'metrics.jsonl'), '{"step":0,"kind":"train","event":"actor_crash","message":"actor 0 threw"}\n');
    const run = await runTraining([...TINY_SYNC, 'steps=150', `work_dir=${work}`]);
    expect(run.dir).toBe(dir);
    expect(evalSteps(dir)).toEqual([0, 100, 150]);
  }, 120_000);
});

describe('a work_dir where folders cannot be made', () => {
  it.runIf(existsSync('/proc/self'))('under /proc: a clear error naming the path, in both runtimes (it used to hang in mkdir)', async () => {
    for (const runtime of ['sync', 'threads']) {
      const base = runtime === 'sync' ? TINY_SYNC : TINY_THREADS;
      const run = runTraining([...base, 'steps=150', 'work_dir=/proc/tdmpc-no-such-dir']);
      await expect(run).rejects.toThrow(ConfigError);
      await expect(run).rejects.toThrow(/^work_dir '\/proc\/tdmpc-no-such-dir': cannot create the run folder \/proc\/tdmpc-no-such-dir\/cartpole-swingup\/tdmpc2\/default\/seed-1 (\(ENOENT at \/proc\/tdmpc-no-such-dir\)|, because '\/proc' is not writable \(EACCES\)); pass work_dir= a writable directory/);
    }
  }, 120_000);
});

// A run that fails before it wrote any result used to leave its folder behind with config.yaml and
// empty logs (harmless, since such a folder is reused, but half-written).
describe('a fresh run that fails before any result', () => {
  const XML = `<mujoco><option timestep="0.01"/><worldbody><body name="b"><joint name="x" type="slide" axis="1 0 0"/>
    <geom type="sphere" size="0.1" mass="1"/></body></worldbody>
    <actuator><motor joint="x" gear="1" ctrlrange="-1 1" ctrllimited="true"/></actuator></mujoco>`;
  /** A task module registering 'slider-boom'; `failure` is module code run before the registration. */
  const taskModule = (work: string, failure: string, reward: string) => {
    const file = path.join(work, 'boom-task.mjs');
    const envs = pathToFileURL(path.resolve('dist', 'src', 'envs', 'index.js')).href;
    writeFileSync(file, [
      "import { isMainThread } from 'node:worker_threads';",
      `import { defineTask, registerTask } from '${envs}';`,
      failure,
      'registerTask(defineTask({',
      `  name: 'slider-boom', model: ${JSON.stringify(XML)}, controlTimestep: 0.02, timeLimit: 1,`,
      '  observation: { position: 1, velocity: 1 },',
      '  create: () => ({',
      '    initializeEpisode(p) { p.qpos[0] = 0.1; },',
      '    getObservation(p, out, o) { out[o] = p.qpos[0]; out[o + 1] = p.qvel[0]; },',
      `    getReward(p) { ${reward} },`,
      '  }),',
      '}));',
    ].join('\n'));
    return file;
  };
  const nested = (work: string) => path.join(work, 'nested');
  // Through the CLI, as users run it: the module and the runtime share one task registry (dist/).
  const train = (args: string[]) => spawnSync(process.execPath, [path.resolve('bin', 'tdmpc.js'), 'train', ...args], { encoding: 'utf8', timeout: 120_000 });

  it('sync: a task that throws in its first evaluation leaves no folder behind', () => {
    const work = workDir('folder-fail-sync');
    const module = taskModule(work, '', "throw new Error('boom: reward');");
    const run = train([...TINY_SYNC, 'task=slider-boom', `task_module=${module}`, 'steps=150', `work_dir=${nested(work)}`]);
    expect([run.status, run.stderr]).toEqual([1, expect.stringMatching(/boom: reward/)]);
    expect(existsSync(nested(work))).toBe(false);
  }, 120_000);

  // The evaluation thread is built first (eval_episodes > 0); without evaluations the actors fail
  // their restarts. Either way the CLI says so in one line, no stack trace, and exits with 1.
  for (const [what, extra, message] of [
    ['the evaluation thread', [], /^tdmpc: the evaluation thread could not be built: task_module .* failed to load: boom: worker .*the run stopped; no checkpoint was written$/m],
    ['the actors', ['eval_episodes=0'], /^tdmpc: actor 0 failed 6 times in a row without committing a step; last error: .*boom: worker .*the run stopped; no checkpoint was written$/m],
  ] as const) {
    it(`threads: ${what} cannot be built: no folder is left behind`, () => {
      const work = workDir('folder-fail-threads');
      const module = taskModule(work, "if (!isMainThread) throw new Error('boom: worker');", 'return 0;');
      const run = train([...TINY_THREADS, 'task=slider-boom', `task_module=${module}`, 'steps=150', `work_dir=${nested(work)}`, ...extra]);
      expect([run.status, run.stderr]).toEqual([1, expect.stringMatching(message)]);
      expect(run.stderr).not.toMatch(/^\s+at /m);
      expect(existsSync(nested(work))).toBe(false);
    }, 120_000);
  }

  it('a run folder that holds results is kept when the run fails later', () => {
    const work = workDir('folder-fail-late');
    // The reward throws after the step-0 evaluation (2 episodes of at most 100 physics steps) was
    // logged, in training: that row is a result.
    const module = taskModule(work, 'let calls = 0;', "if (++calls > 250) throw new Error('boom: later'); return 0;");
    const run = train([...TINY_SYNC, 'task=slider-boom', `task_module=${module}`, 'steps=300', 'eval_episodes=2', `work_dir=${nested(work)}`]);
    expect([run.status, run.stderr]).toEqual([1, expect.stringMatching(/boom: later/)]);
    const dir = path.join(nested(work), 'slider-boom', 'tdmpc2', 'default', 'seed-1');
    expect(evalSteps(dir)[0]).toBe(0);
    expect(existsSync(path.join(dir, 'config.yaml'))).toBe(true);
  }, 120_000);
});
