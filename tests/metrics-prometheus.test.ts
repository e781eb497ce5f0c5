// A real Prometheus server scrapes a short run (scrape interval 1 s), threaded and synchronous, and
// the PromQL query
//   rate(tdmpc_learner_updates_total[30s]) / rate(tdmpc_env_steps_total[30s])
// returns the configured UTD ratio. The exposition also passes `promtool check metrics` (naming
// lint) and carries the metric families the dashboard uses. Needs the Debian package `prometheus`:
// when it is missing the test installs it (scripts/ensure-prometheus.sh, apt-get as root or with
// passwordless sudo), and fails saying how to install it where it cannot.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTraining } from '../src/trainer/run.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';
import { freePort } from './helpers/ports.js';

const UTD = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const installed = (name: string): boolean => {
  const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
};

/** Installs the Debian package when missing (scripts/ensure-prometheus.sh), else fails saying how. */
function requirePrometheus(): void {
  if (installed('prometheus') && installed('promtool')) return;
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'ensure-prometheus.sh');
  const r = spawnSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  if (r.status !== 0 || !installed('prometheus') || !installed('promtool')) {
    throw new Error(`Prometheus (prometheus, promtool) is needed by the scrape test and could not be installed: ${(r.stderr ?? '').trim()}`);
  }
}

async function query(promPort: number, q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`query ${q} failed: ${JSON.stringify(body)}`);
  return body.data.result;
}

const proms: ChildProcess[] = [];
const promDirs: string[] = [];

afterAll(() => {
  for (const p of proms) p.kill('SIGKILL');
  for (const d of promDirs) rmSync(d, { recursive: true, force: true });
});

type QueryResult = Awaited<ReturnType<typeof query>>;
interface Scraped { ratio: QueryResult; info: QueryResult; up: QueryResult; exposition: string }

/**
 * Starts a Prometheus server scraping `metricsUrl` every second, waits past the 30 s rate window,
 * and returns the UTD query, tdmpc_run_info, up and one exposition text read by hand.
 */
async function scrapeWithPrometheus(metricsUrl: string): Promise<Scraped> {
  const target = new URL(metricsUrl);
  const promDir = mkdtempSync(path.join(os.tmpdir(), 'tdmpc-prometheus-'));
  promDirs.push(promDir);
  const promPort = await freePort();
  writeFileSync(path.join(promDir, 'prometheus.yml'), [
    'global:', '  scrape_interval: 1s', '  evaluation_interval: 1s',
    'scrape_configs:', '  - job_name: tdmpc', '    static_configs:', `      - targets: ['${target.host}']`, '',
  ].join('\n'));
  proms.push(spawn('prometheus', [
    `--config.file=${path.join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(promDir, 'data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn',
  ], { stdio: 'ignore' }));
  // Scrape for longer than the 30 s window so both rates cover the same full window.
  await sleep(34_000);
  const ratio = await query(promPort, 'rate(tdmpc_learner_updates_total[30s]) / rate(tdmpc_env_steps_total[30s])');
  const info = await query(promPort, 'tdmpc_run_info');
  const up = await query(promPort, 'up{job="tdmpc"}');
  const exposition = await (await fetch(metricsUrl)).text();
  return { ratio, info, up, exposition };
}

/** The checks both runtimes must pass on what Prometheus saw. */
function checkScraped(r: Scraped, runtime: string): void {
  expect(r.up[0]?.value[1]).toBe('1');
  expect(r.ratio.length).toBe(1);
  const ratio = Number(r.ratio[0].value[1]);
  expect(Math.abs(ratio - UTD) / UTD, `ratio ${ratio}`).toBeLessThan(0.03);
  expect(r.info[0].metric).toMatchObject({ task: 'cartpole-swingup', runtime, utd_ratio: String(UTD), actors: '1' });

  // Naming lint and the families the dashboard reads.
  const exposition = r.exposition;
  const lint = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  expect(lint.status, lint.stdout + lint.stderr).toBe(0);
  for (const family of [
    'tdmpc_env_steps_total', 'tdmpc_episodes_total', 'tdmpc_episode_return', 'tdmpc_learner_updates_total',
    'tdmpc_replay_inserts_total', 'tdmpc_replay_samples_total', 'tdmpc_replay_size', 'tdmpc_replay_capacity',
    'tdmpc_rate_limiter_wait_seconds_total', 'tdmpc_policy_lag_updates', 'tdmpc_parameter_version',
    'tdmpc_plan_duration_seconds', 'tdmpc_update_duration_seconds', 'tdmpc_env_step_duration_seconds',
    'tdmpc_reanalysis_duration_seconds', 'tdmpc_actor_restarts_total', 'tdmpc_actor_last_heartbeat_timestamp_seconds',
    'tdmpc_learner_loss', 'tdmpc_eval_return', 'tdmpc_run_info',
    'tdmpc_learner_nonfinite_gradients_total', 'tdmpc_plan_nonfinite_scores_total', 'tdmpc_physics_divergences_total',
    'tdmpc_policy_nonfinite_actions_total',
  ]) expect(exposition).toContain(`# TYPE ${family} `);
  expect(exposition).toMatch(/tdmpc_rate_limiter_wait_seconds_total\{side="learner"\} \d/);
  expect(exposition).toMatch(/tdmpc_learner_loss\{term="consistency"\} \d/);
  expect(exposition).toMatch(/^tdmpc_learner_nonfinite_gradients_total 0$/m); // a healthy run: counted, and none
  expect(exposition).toMatch(/tdmpc_eval_return\{task="cartpole-swingup"\} -?\d/);
  for (const planner of ['acting', 'reanalysis', 'eval']) expect(exposition).toMatch(new RegExp(`^tdmpc_plan_nonfinite_scores_total\\{planner="${planner}"\\} 0$`, 'm'));
  for (const use of ['acting', 'eval']) expect(exposition).toMatch(new RegExp(`^tdmpc_policy_nonfinite_actions_total\\{use="${use}"\\} 0$`, 'm'));
}

const RUN_ARGS = [`utd_ratio=${UTD}`, 'steps=10000000', 'eval_freq=2000', 'checkpoint_freq=0'];

describe('Prometheus scrape of a run', () => {
  it(`threads: rate(updates) / rate(env steps) = utd_ratio (${UTD})`, async () => {
    requirePrometheus();
    let done = false;
    let failure: unknown = null;
    let results: Scraped | null = null;
    await runTraining([...TINY_THREADS, ...RUN_ARGS, `work_dir=${workDir('prom')}`], {
      onThreadsStart: (h) => {
        scrapeWithPrometheus(h.metricsUrl!).then((r) => { results = r; done = true; }, (err) => { failure = err; done = true; });
      },
      shouldStop: () => done,
    });
    if (failure) throw failure;
    checkScraped(results!, 'threads');
  }, 120_000);

  it(`sync: the same series, answered between the loop's steps (utd_ratio ${UTD})`, async () => {
    requirePrometheus();
    let done = false;
    let failure: unknown = null;
    let results: Scraped | null = null;
    const port = await freePort();
    // The loop binds the port before its first step; Prometheus retries until it answers.
    scrapeWithPrometheus(`http://127.0.0.1:${port}/metrics`).then((r) => { results = r; done = true; }, (err) => { failure = err; done = true; });
    await runTraining([...TINY_THREADS.filter((a) => a !== 'runtime=threads' && !a.startsWith('metrics.port')), 'runtime=sync', `metrics.port=${port}`,
      ...RUN_ARGS, `work_dir=${workDir('prom-sync')}`], { shouldStop: () => done });
    if (failure) throw failure;
    checkScraped(results!, 'sync');
  }, 120_000);
});
