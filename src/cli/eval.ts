// `tdmpc eval checkpoint=<file> [episodes=10] [seed=S] [mode=plan|pi] [threads=T] [--json]`:
// evaluates a saved agent (src/trainer/evaluate-checkpoint.ts) and prints each episode's return
// and their mean; with --json the last line is one JSON object.
import { CliError } from '../errors.js';
import { evaluateCheckpoint } from '../trainer/evaluate-checkpoint.js';
import { evaluationFaultNote } from '../trainer/numeric-faults.js';

const USAGE = 'usage: tdmpc eval checkpoint=<file> [episodes=10] [seed=<run seed>] [mode=plan|pi] [threads=<cores>] [task_module=<file>] [--json]';
const KEYS = ['checkpoint', 'episodes', 'seed', 'mode', 'threads', 'task_module'];

function integer(key: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new CliError(`${key} must be a non-negative integer (got '${value}')\n${USAGE}`);
  return Number(value);
}

export async function evalCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const json = args.includes('--json');
  const values: Record<string, string> = {};
  for (const arg of args) {
    if (arg === '--json') continue;
    const eq = arg.indexOf('=');
    const key = eq > 0 ? arg.slice(0, eq) : '';
    if (!KEYS.includes(key)) throw new CliError(`unknown argument '${arg}': eval takes ${KEYS.map((k) => `${k}=`).join(', ')} and --json\n${USAGE}`);
    values[key] = arg.slice(eq + 1);
  }
  if (!values.checkpoint) throw new CliError(`eval needs checkpoint=<file> (e.g. runs/<task>/<algo>/<exp>/seed-1/checkpoints/final.ckpt)\n${USAGE}`);
  const r = await evaluateCheckpoint(values.checkpoint, {
    ...(values.episodes !== undefined ? { episodes: integer('episodes', values.episodes) } : {}),
    ...(values.seed !== undefined ? { seed: integer('seed', values.seed) } : {}),
    ...(values.threads !== undefined ? { threads: integer('threads', values.threads) } : {}),
    ...(values.mode !== undefined ? { mode: values.mode as 'plan' | 'pi' } : {}),
    ...(values.task_module !== undefined ? { taskModule: values.task_module } : {}),
  });
  const line = `${r.task} (${r.algo}, step ${r.step}, ${r.mode === 'plan' ? 'planner' : 'policy only'}, seed ${r.seed}): `
    + `mean return ${r.mean.toFixed(1)} ± ${r.std.toFixed(1)} over ${r.returns.length} episodes (min ${r.min.toFixed(1)}, max ${r.max.toFixed(1)})`;
  // A checkpoint of a diverged model still evaluates (NaN/Inf scores rank last), but says so.
  const faults = evaluationFaultNote(r.step, r);
  if (faults) console.error(`tdmpc: ${faults}`);
  if (json) {
    console.error(line);
    console.log(JSON.stringify({ eval: r.task, ...r }));
  } else {
    console.log(`returns: ${r.returns.map((x) => x.toFixed(1)).join(' ')}`);
    console.log(line);
  }
  return 0;
}
