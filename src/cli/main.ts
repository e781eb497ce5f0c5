// `tdmpc` command line: dispatches to one module per command so each stays small.
//   tdmpc train key=value ...      training (src/cli/train.ts)
//   tdmpc eval checkpoint=...      evaluate a saved agent (src/cli/eval.ts)
//   tdmpc tasks [--json]           list built-in tasks (src/cli/tasks.ts)
//   tdmpc bench <name> [flags]     benchmarks (src/bench/<name>.ts), JSON as the last line with --json
import { CliError } from '../errors.js';
import { runBench, BENCHES } from '../bench/index.js';
import { checkEngineEnvironment } from '../engine/index.js';
import { RuntimeError } from '../runtime/errors.js';

const USAGE = `usage: tdmpc <command> [args]
commands:
  train key=value ...    train an agent (e.g. tdmpc train task=cartpole-swingup algo=bmpc steps=100000)
  eval checkpoint=<file> evaluate a saved agent: episodes=10 seed= mode=plan|pi threads= task_module= [--json]
  tasks [--json]         list the built-in tasks
  bench <name> [--json]  run a benchmark: ${BENCHES.join(', ')} (bench <name> --help: its options)
  help                   show this text`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    checkEngineEnvironment();
    switch (command) {
      case 'train': {
        const { trainCommand } = await import('./train.js');
        return await trainCommand(rest);
      }
      case 'eval': {
        const { evalCommand } = await import('./eval.js');
        return await evalCommand(rest);
      }
      case 'tasks': {
        const { tasksCommand } = await import('./tasks.js');
        return await tasksCommand(rest);
      }
      case 'bench':
        return await runBench(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return command === undefined ? 1 : 0;
      default:
        throw new CliError(`unknown command '${command}'\n${USAGE}`);
    }
  } catch (err) {
    if (err instanceof Error && ['CliError', 'ConfigError', 'EnvError', 'CheckpointError', 'ShapeError'].includes(err.name)) {
      console.error(`tdmpc: ${err.message}`);
      return 2;
    }
    // A threaded run that failed (src/runtime/errors.ts): its message says what failed, where the
    // last checkpoint is and how to continue; a stack trace would bury that.
    if (err instanceof RuntimeError) { // LearnerFailure and ActorFailure too
      console.error(`tdmpc: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
