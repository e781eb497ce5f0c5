// The run folder, <work_dir>/<task>/<algo>/<exp_name>/seed-<seed>: checked before any work starts
// (it can be created, and a fresh run would not clobber an earlier run's results), then created
// by whichever runtime trains. Both runtimes share this, so they refuse and write the same things.
import { accessSync, constants as fsConstants, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { renderConfigYaml } from '../config/render.js';
import { ConfigError } from '../errors.js';

export function runDir(cfg: Config): string {
  return path.resolve(cfg.work_dir, cfg.task, cfg.algo, cfg.exp_name, `seed-${cfg.seed}`);
}

const WRITABLE_FIX = 'pass work_dir= a writable directory (the run writes to <work_dir>/<task>/<algo>/<exp_name>/seed-<seed>)';

/**
 * The run folder must be creatable, checked without creating anything (a later refusal leaves no
 * empty folder behind): its nearest existing ancestor must be a writable directory.
 */
function checkCreatable(cfg: Config, dir: string): void {
  let existing = dir;
  while (!existsSync(existing)) existing = path.dirname(existing);
  if (!statSync(existing).isDirectory()) {
    throw new ConfigError(`work_dir '${cfg.work_dir}': cannot create the run folder ${dir}, because '${existing}' is a file, not a directory; ${WRITABLE_FIX}`);
  }
  try {
    accessSync(existing, fsConstants.W_OK);
  } catch (err) {
    throw new ConfigError(`work_dir '${cfg.work_dir}': cannot create the run folder ${dir}, because '${existing}' is not writable (${(err as NodeJS.ErrnoException).code}); ${WRITABLE_FIX}`);
  }
}

/**
 * Whether metrics.jsonl holds a line of training or evaluation metrics. Event lines alone (actor
 * crashes, logged as they happen) are what a run that failed at its start leaves: no results.
 */
function holdsRunMetrics(file: string): boolean {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.length === 0) continue;
    try {
      if ((JSON.parse(line) as { event?: unknown }).event === undefined) return true;
    } catch {
      return true; // not ours to judge: keep it
    }
  }
  return false;
}

/** What an earlier run left in the folder that a fresh run would overwrite or mix with its own. */
function earlierResults(dir: string): string[] {
  const found: string[] = [];
  const evalCsv = path.join(dir, 'eval.csv');
  if (existsSync(evalCsv)) {
    const rows = readFileSync(evalCsv, 'utf8').split('\n').filter((l) => l.length > 0).length - 1;
    if (rows > 0) found.push(`eval.csv with ${rows} evaluation(s)`);
  }
  const metricsJsonl = path.join(dir, 'metrics.jsonl');
  if (existsSync(metricsJsonl) && holdsRunMetrics(metricsJsonl)) found.push('metrics.jsonl');
  const ckptDir = path.join(dir, 'checkpoints');
  if (existsSync(ckptDir) && statSync(ckptDir).isDirectory()) {
    const ckpts = readdirSync(ckptDir).filter((f) => f.endsWith('.ckpt'));
    if (ckpts.length > 0) found.push(`${ckpts.length} checkpoint file(s)`);
  }
  return found;
}

/**
 * Before any work: the folder can be created, and a fresh run (no resume=) does not start over an
 * earlier run's results unless overwrite=true says so. Re-running a sweep command used to replace
 * eval.csv silently while the old run's checkpoints stayed beside the new ones. A folder with no
 * results (a run refused or stopped before its first log line) is simply reused.
 */
export function checkRunFolder(cfg: Config): void {
  const dir = runDir(cfg);
  checkCreatable(cfg, dir);
  if (cfg.resume !== null || cfg.overwrite || !existsSync(dir)) return;
  const found = earlierResults(dir);
  if (found.length === 0) return;
  const latest = path.join(dir, 'checkpoints', 'latest.ckpt');
  const resume = existsSync(latest) ? `continue it with resume=${latest}, ` : '';
  throw new ConfigError(`run folder ${dir} already holds an earlier run (${found.join(', ')}): ${resume}`
    + `start a separate run with another exp_name= or seed=, or replace it with overwrite=true`);
}

/**
 * Creates the run folder (removing an earlier run's results first when overwrite=true starts a
 * fresh run over it) and writes the resolved config. Folders are made one level at a time: Node's
 * recursive mkdirSync never returns on a path under /proc (ENOENT there is retried forever).
 * Returns what a failing run calls so that it leaves nothing half-written (discardIfNoResults).
 */
export function createRunFolder(cfg: Config, dir: string, derived: unknown): () => void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      throw new ConfigError(`work_dir '${cfg.work_dir}': cannot create the run folder ${dir} (${(err as NodeJS.ErrnoException).code} at ${d}); ${WRITABLE_FIX}`);
    }
  }
  if (cfg.overwrite && cfg.resume === null) {
    for (const name of ['eval.csv', 'metrics.jsonl', 'checkpoints']) rmSync(path.join(dir, name), { recursive: true, force: true });
  }
  writeFileSync(path.join(dir, 'config.yaml'), renderConfigYaml(cfg, `# Resolved config of this run (tdmpc-runtime). Derived: ${JSON.stringify(derived)}`));
  return () => discardIfNoResults(cfg, dir, missing);
}

/**
 * After a fresh run failed (a worker that cannot be built, a task that throws): when it wrote no
 * result yet (no evaluation row, metrics line or checkpoint), removes what it did write (config.yaml,
 * the empty logs, an empty checkpoints/) and the folders it created. A resumed run's folder, or one
 * holding results, stays as it is. Never throws: the run's own error is what the user must see.
 */
function discardIfNoResults(cfg: Config, dir: string, created: readonly string[]): void {
  try {
    if (cfg.resume !== null || !existsSync(dir) || earlierResults(dir).length > 0) return;
    for (const name of ['config.yaml', 'eval.csv', 'metrics.jsonl']) rmSync(path.join(dir, name), { force: true });
    const ckptDir = path.join(dir, 'checkpoints');
    if (existsSync(ckptDir) && readdirSync(ckptDir).length === 0) rmdirSync(ckptDir);
    for (let i = created.length - 1; i >= 0 && readdirSync(created[i]!).length === 0; i--) rmdirSync(created[i]!);
  } catch { /* best effort */ }
}
