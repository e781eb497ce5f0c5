#!/usr/bin/env node
// Runs one learning run and records it under results/<name>/ (eval.csv, config.yaml, metrics.jsonl,
// run.json with the command, wall-clock time and machine), then refreshes results/README.md.
// Usage: node scripts/learning-run.mjs <name> key=value ...   (arguments as for `tdmpc train`)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [name, ...args] = process.argv.slice(2);
if (!name || name.includes('=')) {
  console.error('usage: node scripts/learning-run.mjs <name> key=value ...');
  process.exit(2);
}
const work = path.join(os.tmpdir(), `tdmpc-results-${name}`);
// A fresh recording replaces an earlier attempt's run folder in the scratch work_dir (a resume= continues it).
const resuming = args.some((a) => a.startsWith('resume='));
const fullArgs = [...args, `work_dir=${work}`, `exp_name=${name}`, ...(resuming ? [] : ['overwrite=true'])];
const t0 = Date.now();
const r = spawnSync(process.execPath, [path.join(root, 'bin', 'tdmpc.js'), 'train', ...fullArgs], { stdio: 'inherit' });
const wall = (Date.now() - t0) / 1000;
// The run folder is <work>/<task>/<algo>/<name>/seed-<seed>.
const find = (d, depth) => (depth === 0 ? [d] : existsSync(d) ? readdirSync(d).flatMap((e) => find(path.join(d, e), depth - 1)) : []);
const runDir = find(work, 4).find((d) => existsSync(path.join(d, 'eval.csv')));
if (!runDir) { console.error('no run folder with eval.csv found'); process.exit(1); }
const out = path.join(root, 'results', name);
mkdirSync(out, { recursive: true });
for (const f of ['eval.csv', 'config.yaml', 'metrics.jsonl']) if (existsSync(path.join(runDir, f))) copyFileSync(path.join(runDir, f), path.join(out, f));
const get = (k) => args.find((a) => a.startsWith(`${k}=`))?.split('=')[1];
writeFileSync(path.join(out, 'run.json'), JSON.stringify({
  command: `npx tdmpc train ${args.join(' ')}`, task: get('task'), algo: get('algo') ?? 'tdmpc2', steps: Number(get('steps') ?? 100000),
  wall_s: wall, exit_code: r.status, machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model}`, finished: new Date().toISOString(),
  checkpoints: path.join(runDir, 'checkpoints'),
}, null, 2) + '\n');
spawnSync(process.execPath, [path.join(root, 'scripts', 'plot-results.mjs'), path.join(root, 'results')], { stdio: 'inherit' });
process.exit(r.status ?? 1);
