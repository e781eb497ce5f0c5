// The `tdmpc` command as a user runs it (compiled dist/, built by `npm test`'s pretest step).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

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
    const ckpt = tdmpc('train', 'resume=/nonexistent/x.ckpt');
    expect(ckpt.status).toBe(2);
    expect(ckpt.stderr).toMatch(/does not exist/);
    const bench = tdmpc('bench', 'nope');
    expect(bench.status).toBe(2);
    expect(bench.stderr).toMatch(/bench needs one of/);
    expect(tdmpc('frobnicate').status).toBe(2);
  });
});
