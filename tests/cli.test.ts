// The `tdmpc` command as a user runs it (compiled dist/, built by `npm test`'s pretest step).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import os from 'node:os';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tdmpc = (...args: string[]) => spawnSync(process.execPath, [path.join(root, 'bin', 'tdmpc.js'), ...args], { encoding: 'utf8', cwd: root, timeout: 60_000 });

describe('tdmpc CLI', () => {
  it('prints help and lists all 25 tasks as JSON with dm_control sizes', () => {
    expect(tdmpc('help').status).toBe(0);
    const r = tdmpc('tasks', '--json');
    expect(r.status, r.stderr).toBe(0);
    const tasks = JSON.parse(r.stdout.trim().split('\n').pop()!) as { name: string; obs_dim: number; action_dim: number; episode_length: number }[];
    expect(tasks.length).toBe(25);
    const byName = Object.fromEntries(tasks.map((t) => [t.name, t]));
    expect(byName['cartpole-swingup']).toEqual({ name: 'cartpole-swingup', obs_dim: 5, action_dim: 1, episode_length: 500 });
    expect(byName['walker-walk'].obs_dim).toBe(24);
    expect(byName['humanoid-run'].action_dim).toBe(21);
    expect(byName['quadruped-run'].obs_dim).toBe(78);
  });

  it('rejects bad input before any work, naming the fix (exit code 2)', () => {
    const task = tdmpc('train', 'task=cartpol-swingup');
    expect(task.status).toBe(2);
    expect(task.stderr).toMatch(/cartpole-swingup/);
    const key = tdmpc('train', 'utd_raito=2');
    expect(key.status).toBe(2);
    expect(key.stderr).toMatch(/unknown config key 'utd_raito'.*utd_ratio/);
    const value = tdmpc('train', 'batch_size=0');
    expect(value.status).toBe(2);
    expect(value.stderr).toMatch(/'batch_size'.*integer >= 1/);
    const notKv = tdmpc('train', 'cartpole');
    expect(notKv.status).toBe(2);
    expect(notKv.stderr).toMatch(/key=value/);
    // steps caps this replay (3008 slots), not buffer_size: the message says so and names the real fix.
    const work = mkdtempSync(path.join(os.tmpdir(), 'tdmpc-cli-replay-'));
    const replay = tdmpc('train', 'task=cartpole-swingup', 'runtime=sync', 'batch_size=4000', 'buffer_size=5000', 'steps=3000', `work_dir=${work}`);
    expect(replay.status).toBe(2);
    expect(replay.stderr).toMatch(/batch_size=4000 needs a replay of at least 4000 slots, but it holds 3008: its size is capped by steps=3000 .*not by buffer_size=5000.*; lower batch_size to at most 3008, or raise steps to at least 3990/);
    expect(existsSync(path.join(work, 'cartpole-swingup'))).toBe(false);
    // A work_dir under a file cannot hold the run folder: said before any work, in both runtimes.
    const file = path.join(work, 'a-file');
    writeFileSync(file, '');
    for (const runtime of ['sync', 'threads']) {
      const dir = tdmpc('train', `runtime=${runtime}`, `work_dir=${path.join(file, 'runs')}`);
      expect(dir.status, dir.stderr).toBe(2);
      expect(dir.stderr).toMatch(/work_dir '.*a-file\/runs': cannot create the run folder .* because '.*a-file' is a file, not a directory; pass work_dir= a writable directory/);
    }
    const ckpt = tdmpc('train', 'resume=/nonexistent/x.ckpt');
    expect(ckpt.status).toBe(2);
    expect(ckpt.stderr).toMatch(/does not exist/);
    const bench = tdmpc('bench', 'nope');
    expect(bench.status).toBe(2);
    expect(bench.stderr).toMatch(/bench needs one of/);
    expect(tdmpc('frobnicate').status).toBe(2);
    const rounds = tdmpc('bench', 'runtime', '--rounds', '0');
    expect(rounds.status).toBe(2);
    expect(rounds.stderr).toMatch(/--rounds needs a positive integer/);
    const help = tdmpc('bench', 'runtime', '--actors-help-learner', 'maybe');
    expect(help.status).toBe(2);
    expect(help.stderr).toMatch(/--actors-help-learner must be true or false/);
    const typo = tdmpc('bench', 'gemm', '--threds', '1');
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/unknown option --threds; it takes --threads, --reps, --json/);
    const form = tdmpc('bench', 'model', '--value', 'W');
    expect(form.status).toBe(2);
    expect(form.stderr).toMatch(/--value must be V .* or Q/);
    // A switch with a value would silently turn JSON output off; thread counts beyond the engine's.
    const sw = tdmpc('bench', 'gemm', '--json=yes');
    expect(sw.status).toBe(2);
    expect(sw.stderr).toMatch(/--json is a switch and takes no value/);
    expect(tdmpc('bench', 'gemm', '--json', '5').stderr).toMatch(/unexpected argument '5'/);
    const threads = tdmpc('bench', 'model', '--threads', '100');
    expect(threads.status).toBe(2);
    expect(threads.stderr).toMatch(/bench model: --threads needs an integer in \[1, 64\]/);
  });

  it('checks the engine variables before any work (exit code 2, naming the values)', () => {
    const run = (env: Record<string, string>, ...args: string[]) => spawnSync(process.execPath,
      [path.join(root, 'bin', 'tdmpc.js'), ...args], { encoding: 'utf8', cwd: root, timeout: 60_000, env: { ...process.env, ...env } });
    const simd = run({ TDMPC_SIMD: 'AVX2' }, 'train', 'task=cartpole-balance', 'runtime=sync');
    expect(simd.status).toBe(2);
    expect(simd.stderr).toMatch(/TDMPC_SIMD=AVX2 is not a SIMD path; use TDMPC_SIMD=avx2 or scalar/);
    const engine = run({ TDMPC_ENGINE: 'gpu' }, 'tasks');
    expect(engine.status).toBe(2);
    expect(engine.stderr).toMatch(/TDMPC_ENGINE=gpu is not a backend; use TDMPC_ENGINE=native, js or auto/);
  });

  it('prints each benchmark\'s options with --help, running nothing', () => {
    const r = tdmpc('bench', 'runtime', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: tdmpc bench runtime .*--actors 1.*--rounds 2/);
    const all = tdmpc('bench', '--help');
    expect(all.status).toBe(0);
    expect(all.stdout).toMatch(/^usage: tdmpc bench <name> .*names: peak, gemm, model, env, plan, update, runtime/);
  });

  it('bench runtime refuses in its own flags: plan/update\'s --size S|M, more actors than cores, a refused run config', () => {
    // It was passed on as model_size=S and refused as the config key, not as the flag given.
    const r = tdmpc('bench', 'runtime', '--size', 'S', '--json');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("bench runtime: --size must be a model_size preset, one of 1, 5, 19, 48, 317 (millions of parameters), got 'S'");
    // Likewise more actors than cores: refused as --actors (it was refused as the config key actors=).
    const cores = os.availableParallelism();
    const many = tdmpc('bench', 'runtime', '--actors', String(cores + 1), '--json');
    expect(many.status).toBe(2);
    expect(many.stderr).toContain(`bench runtime: --actors ${cores + 1} is more than the ${cores} cores of this machine (each actor keeps a core busy); use --actors ${Math.max(1, cores - 1)} to leave the learner a core, or at most --actors ${cores}`);
    // A refusal of the run's config names the flag that set each key it names.
    const threads = tdmpc('bench', 'runtime', '--learner-threads', '100', '--json');
    expect(threads.status).toBe(2);
    expect(threads.stderr).toMatch(/^tdmpc: bench runtime: config 'learner_threads' \(command line\) must be an integer >= 0 and <= 64, got "100"; .* \(here learner_threads is --learner-threads\)$/m);
    const seeds = tdmpc('bench', 'runtime', '--steps', '300', '--seed-steps', '100', '--envs', '64', '--json');
    expect(seeds.status).toBe(2);
    expect(seeds.stderr).toMatch(/^tdmpc: bench runtime: seed_steps=100 spread over 64 env\(s\) .*set seed_steps to at least 193.* \(here seed_steps is --seed-steps\)$/m);
  });

  // The benchmark's output contract (not its numbers): both modes over one short window, the JSON
  // object as the last line with the per-round ratios. The benchmark measures the engine the
  // package ships (native), also when this suite runs under TDMPC_ENGINE=js.
  it('bench runtime prints its JSON line for both modes', () => {
    const env = { ...process.env };
    delete env.TDMPC_ENGINE;
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'tdmpc.js'), 'bench', 'runtime', '--steps', '260', '--rounds', '1', '--json'], { encoding: 'utf8', cwd: root, env, timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, any>;
    expect(out.bench).toBe('runtime');
    expect(out.threads.utd).toBe(1);
    expect(out.sync.utd).toBe(1);
    expect(out.threads.env_steps_per_s).toBeGreaterThan(0);
    expect(out.sync.env_steps_per_s).toBeGreaterThan(0);
    expect(out.speedup).toBeCloseTo(out.threads.env_steps_per_s / out.sync.env_steps_per_s, 2);
    // Same work in both windows (the learning phase: burst + 60 steps + their 60 updates).
    expect(out.window.threads_utd).toBeCloseTo(70 / 60, 4);
    expect(out.window.sync_utd).toBeCloseTo(70 / 60, 4);
    expect(out.rounds).toHaveLength(1);
    expect(out.config.rounds).toBe(1);
  }, 300_000);
});
