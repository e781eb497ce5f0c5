// Task registry: every built-in task, by tdmpc2-style name, plus tasks registered at run time.
// Adding a built-in domain is one import and one spread below: each src/envs/tasks/<domain>.ts
// exports an array of TaskSpecs.
import { EnvError } from '../errors.js';
import type { TaskSpec } from './task.js';
import { cartpoleTasks } from './tasks/cartpole.js';
import { pendulumTasks } from './tasks/pendulum.js';
import { acrobotTasks } from './tasks/acrobot.js';
import { reacherTasks } from './tasks/reacher.js';
import { fingerTasks } from './tasks/finger.js';
import { pointMassTasks } from './tasks/point-mass.js';
import { ballInCupTasks } from './tasks/ball-in-cup.js';
import { cheetahTasks } from './tasks/cheetah.js';
import { hopperTasks } from './tasks/hopper.js';
import { humanoidTasks } from './tasks/humanoid.js';
import { quadrupedTasks } from './tasks/quadruped.js';
import { walkerTasks } from './tasks/walker.js';

const BUILTIN_TASKS: readonly TaskSpec[] = [
  ...cartpoleTasks,
  ...pendulumTasks,
  ...acrobotTasks,
  ...reacherTasks,
  ...fingerTasks,
  ...pointMassTasks,
  ...ballInCupTasks,
  ...cheetahTasks,
  ...walkerTasks,
  ...hopperTasks,
  ...humanoidTasks,
  ...quadrupedTasks,
];

const registry = new Map<string, TaskSpec>();
for (const spec of BUILTIN_TASKS) addTask(spec, false);

function addTask(spec: TaskSpec, replace: boolean): void {
  if (!replace && registry.has(spec.name)) {
    throw new EnvError(`task '${spec.name}' is already registered (pass { replace: true } to registerTask to override it)`);
  }
  registry.set(spec.name, spec);
}

/** Adds a task (usually from defineTask) so makeTask and the environments can find it by name. */
export function registerTask(spec: TaskSpec, options: { replace?: boolean } = {}): void {
  if (!spec || typeof spec.name !== 'string' || typeof spec.create !== 'function') {
    throw new EnvError('registerTask expects a TaskSpec: build one with defineTask({...})');
  }
  addTask(spec, options.replace ?? false);
}

/** Whether `name` (or its alias) is a built-in task, known to every thread without a task_module. */
export function isBuiltinTask(name: string): boolean {
  const n = ALIASES.get(name) ?? name;
  return BUILTIN_TASKS.some((t) => t.name === n);
}

/** Names of all registered tasks, in registration order (built-ins first). */
export function taskNames(): string[] {
  return [...registry.keys()];
}

/** Other spellings of built-in names: dm_control's domain name for tdmpc2's `pointmass`. */
const ALIASES: ReadonlyMap<string, string> = new Map([['point-mass-easy', 'pointmass-easy']]);

/** The task registered under `name`; unknown names throw EnvError listing the closest names. */
export function makeTask(name: string): TaskSpec {
  const spec = registry.get(name) ?? registry.get(ALIASES.get(name) ?? '');
  if (spec) return spec;
  const closest = closestNames(name, taskNames(), 3);
  throw new EnvError(
    `unknown task '${name}'${closest.length ? `; did you mean ${closest.map((n) => `'${n}'`).join(', ')}?` : ''} ` +
      `(run 'tdmpc tasks' for the full list)`,
  );
}

/** The `count` candidates with the smallest edit distance to `name` (ties keep list order). */
export function closestNames(name: string, candidates: readonly string[], count: number): string[] {
  return candidates
    .map((c, i) => ({ c, i, d: editDistance(name, c) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .slice(0, count)
    .map((e) => e.c);
}

/** Levenshtein distance (insertions, deletions, substitutions each cost 1). */
export function editDistance(a: string, b: string): number {
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1] + (a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1);
      cur[j] = Math.min(sub, prev[j] + 1, cur[j - 1] + 1);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}
