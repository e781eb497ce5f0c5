// Benchmark dispatcher. Each benchmark is src/bench/<name>.ts exporting
//   export async function bench(args: BenchArgs): Promise<Record<string, unknown>>
// which may print human-readable progress with console.log; the returned object (which must
// contain "bench": <name>) is printed as one JSON line, last, when --json is given, and as
// indented JSON otherwise. Speed targets live here, never in timed tests.
import { CliError } from '../errors.js';

export const BENCHES = ['peak', 'gemm', 'model', 'env', 'plan', 'update', 'runtime'] as const;

export interface BenchArgs {
  /** --key value and --flag (true) options, e.g. { size: 'S', json: true, 'vs-torch': true }. */
  flags: Record<string, string | boolean>;
  json: boolean;
}

interface BenchModule {
  /** One line: the command and its options, e.g. 'tdmpc bench peak [--threads N] [--json]'. */
  USAGE: string;
  bench(args: BenchArgs): Promise<Record<string, unknown>>;
}

/** Refuses an option the benchmark does not take (a typo would otherwise be ignored silently). */
export function checkOptions(name: string, usage: string, flags: Record<string, string | boolean>): void {
  const known = new Set([...usage.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]));
  for (const key of Object.keys(flags)) {
    if (!known.has(key)) {
      throw new CliError(`bench ${name}: unknown option --${key}; it takes ${[...known].map((k) => `--${k}`).join(', ')} (usage: ${usage})`);
    }
  }
}

/**
 * --name N for benchmark `bench`: a positive integer (a positive number when `integer` is false),
 * `dflt` when absent. A bare --name (no value) is refused, not read as 1.
 */
export function positiveFlag(args: BenchArgs, bench: string, name: string, dflt: number, integer = true): number {
  const v = args.flags[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new CliError(`bench ${bench}: --${name} needs a positive ${integer ? 'integer' : 'number'} (got '${String(v)}')`);
  }
  return n;
}

/** --threads N of benchmark `bench` (default 2): an integer in [1, 64], the engine's range. */
export function threadsFlag(args: BenchArgs, bench: string): number {
  const raw = args.flags.threads ?? '2';
  const threads = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new CliError(`bench ${bench}: --threads needs an integer in [1, 64] (got '${String(raw)}')`);
  }
  return threads;
}

/** The options a usage line shows without a value (`[--json]`, `[--vs-torch]`), plus --help. */
export function switchOptions(usage: string): Set<string> {
  return new Set(['help', ...[...usage.matchAll(/\[--([a-z][a-z-]*)\]/g)].map((m) => m[1])]);
}

/**
 * --name value, --name=value, or a bare --name (true). A switch (see switchOptions) takes no
 * value: `--json=yes` or `--json 5` is refused rather than read as "no JSON".
 */
export function parseFlags(argv: string[], switches: Set<string> = new Set(['help'])): Record<string, string | boolean> {
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new CliError(`unexpected argument '${a}': benchmark options look like --size S or --json`);
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (switches.has(key)) {
      if (eq > 0) throw new CliError(`--${key} is a switch and takes no value (got '${a}'); write --${key} alone`);
      flags[key] = true;
    } else if (eq > 0) flags[key] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags[key] = argv[++i];
    else flags[key] = true;
  }
  return flags;
}

export async function runBench(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === 'help') {
    console.log(`usage: tdmpc bench <name> [options] [--json]   (names: ${BENCHES.join(', ')}; tdmpc bench <name> --help lists its options)`);
    return 0;
  }
  if (!name || !(BENCHES as readonly string[]).includes(name)) {
    throw new CliError(`bench needs one of: ${BENCHES.join(', ')} (got '${name ?? ''}')`);
  }
  const mod = (await import(`./${name}.js`)) as BenchModule;
  const flags = parseFlags(rest, switchOptions(mod.USAGE));
  const json = flags.json === true;
  if (flags.help !== undefined) {
    console.log(`usage: ${mod.USAGE}`);
    return 0;
  }
  checkOptions(name, mod.USAGE, flags);
  const result = await mod.bench({ flags, json });
  console.log(json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
  return 0;
}
