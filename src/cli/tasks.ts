// `tdmpc tasks [--json]`: lists the registered tasks with their observation size, action size and
// episode length in agent steps (TD-MPC2's action repeat 2). Action sizes come from the compiled
// models (one compile per domain).
import { CliError } from '../errors.js';
import { loadMujocoModule, compileModel } from '../envs/physics.js';
import { makeTask, taskNames } from '../envs/registry.js';
import { observationSize, taskTiming } from '../envs/task.js';

export interface TaskRow {
  name: string;
  obs_dim: number;
  action_dim: number;
  episode_length: number;
}

const ACTION_REPEAT = 2;

/** One row per registered task (compiles each domain's model once). */
export async function listTasks(): Promise<TaskRow[]> {
  const mj = await loadMujocoModule();
  const perDomain = new Map<string, { nu: number; timestep: number }>();
  const rows: TaskRow[] = [];
  for (const name of taskNames()) {
    const spec = makeTask(name);
    let info = perDomain.get(spec.domain);
    if (!info) {
      const model = compileModel(mj, spec.model());
      const opt = model.opt;
      info = { nu: model.nu, timestep: opt.timestep };
      opt.delete();
      model.delete();
      perDomain.set(spec.domain, info);
    }
    const { controlSteps } = taskTiming(spec, info.timestep);
    rows.push({ name, obs_dim: observationSize(spec), action_dim: info.nu, episode_length: Math.ceil(controlSteps / ACTION_REPEAT) });
  }
  return rows;
}

export async function tasksCommand(argv: string[]): Promise<number> {
  let json = false;
  for (const a of argv) {
    if (a === '--json') json = true;
    else throw new CliError(`tasks: unknown argument '${a}' (usage: tdmpc tasks [--json])`);
  }
  const rows = await listTasks();
  if (json) {
    console.log(JSON.stringify(rows));
    return 0;
  }
  const header = ['name', 'obs dim', 'action dim', 'episode length'];
  const cells = rows.map((r) => [r.name, String(r.obs_dim), String(r.action_dim), String(r.episode_length)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
  return 0;
}
