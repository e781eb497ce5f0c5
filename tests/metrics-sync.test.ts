// runtime=sync serves the same /metrics series as a threaded run (it served none: a dashboard or
// the UTD query went blank when a sweep switched to the bit-reproducible loop). The loop answers
// scrapes between its steps; its counters continue over resume= like the threaded run's. A port in
// use is refused before any work in both runtimes (runtime-errors.test.ts).
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { runTraining } from '../src/trainer/run.js';
import type { TrainerState } from '../src/trainer/online-trainer.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';
import { freePort } from './helpers/ports.js';

const TINY_SYNC = [...TINY_THREADS.filter((a) => a !== 'runtime=threads' && !a.startsWith('metrics.port')), 'runtime=sync', 'checkpoint_freq=0'];

/** The value of one series in an exposition text (NaN when absent). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

const STEPS = 'tdmpc_env_steps_total{task="cartpole-swingup"}';
const UPDATES = 'tdmpc_learner_updates_total{task="cartpole-swingup"}';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a synchronous run with `args` and scrapes it: from the first scrape that satisfies `ready`,
 * again 1.5 s later; then stops the run. Returns the two exposition texts.
 */
async function scrapesWhileRunning(ready: (text: string) => boolean, args: string[]): Promise<[string, string]> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/metrics`;
  let done = false;
  const scraping = (async (): Promise<[string, string]> => {
    try {
      let first = '';
      for (let i = 0; i < 600 && !(first !== '' && ready(first)); i++) {
        first = (await (await fetch(url).catch(() => null))?.text()) ?? ''; // '' until the port is bound
        await sleep(50);
      }
      await sleep(1500);
      return [first, await (await fetch(url)).text()];
    } finally {
      done = true;
    }
  })();
  scraping.catch(() => {}); // a failed scrape stops the run first; it is reported by the return below
  await runTraining([...TINY_SYNC, `metrics.port=${port}`, ...args], { shouldStop: () => done });
  return scraping;
}

function expectHeartbeatsMoved(a: string, b: string): void {
  for (const beat of ['tdmpc_actor_last_heartbeat_timestamp_seconds{actor="0"}', 'tdmpc_learner_last_heartbeat_timestamp_seconds']) {
    expect(sample(b, beat) - sample(a, beat), beat).toBeGreaterThan(1);
  }
}

describe('metrics of a synchronous run', () => {
  it('serves the threaded runtime\'s series while it trains', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/metrics`;
    const scrapes: string[] = [];
    let pending: Promise<void> | null = null;
    // actors=2 is inert under sync (a warning names it): the loop is one actor, and run_info says so.
    const res = await runTraining([...TINY_SYNC, 'actors=2', `metrics.port=${port}`, 'steps=100000', `work_dir=${workDir('sync-metrics')}`], {
      afterStep: (step) => {
        // Two scrapes in the learning phase, after the evaluation at step 200; each is answered between steps.
        if (pending === null && (step === 260 || (scrapes.length === 1 && step >= 320))) {
          pending = fetch(url).then((r) => r.text()).then((t) => { scrapes.push(t); pending = null; });
        }
      },
      shouldStop: () => scrapes.length === 2,
    });
    expect((res.state as TrainerState).step).toBeLessThan(1000);
    const [a, b] = scrapes;
    expect(a).toMatch(/^tdmpc_run_info\{[^}]*runtime="sync"[^}]*\} 1$/m);
    expect(a).toMatch(/^tdmpc_run_info\{[^}]*actors="1"[^}]*\} 1$/m);
    // utd_ratio=1, one env: exactly one update per step in the learning phase, as the UTD query computes it.
    const steps = sample(b, STEPS) - sample(a, STEPS);
    expect(steps).toBeGreaterThan(0);
    expect(sample(b, UPDATES) - sample(a, UPDATES)).toBe(steps);
    expect(sample(b, 'tdmpc_replay_inserts_total')).toBe(sample(b, STEPS));
    expect(sample(b, 'tdmpc_parameter_version')).toBe(sample(b, UPDATES));
    expect(sample(b, 'tdmpc_actor_parameter_version{actor="0"}')).toBe(sample(b, UPDATES) - 1); // acted before this step's update
    // 50-step episodes; returns and their histogram.
    expect(sample(b, 'tdmpc_episodes_total{task="cartpole-swingup"}')).toBe(Math.floor(sample(b, STEPS) / 50));
    expect(sample(b, 'tdmpc_episode_return_count{task="cartpole-swingup"}')).toBe(sample(b, 'tdmpc_episodes_total{task="cartpole-swingup"}'));
    // The planner acted after seeding (100 steps): plans timed, lag always 0 (it acts with its newest parameters).
    expect(sample(b, 'tdmpc_plan_duration_seconds_count')).toBe(sample(b, STEPS) - 100);
    expect(sample(b, 'tdmpc_env_step_duration_seconds_count')).toBe(sample(b, STEPS));
    expect(sample(b, 'tdmpc_policy_lag_updates_bucket{le="0"}')).toBe(sample(b, 'tdmpc_policy_lag_updates_count'));
    expect(sample(b, 'tdmpc_update_duration_seconds_count')).toBe(sample(b, UPDATES));
    expect(sample(b, 'tdmpc_learner_loss{term="total"}')).toBeGreaterThan(0);
    expect(sample(b, 'tdmpc_replay_size')).toBeGreaterThanOrEqual(sample(b, STEPS));
    // The evaluations at steps 0 and 200.
    expect(sample(b, 'tdmpc_eval_step{task="cartpole-swingup"}')).toBe(200);
    expect(Number.isFinite(sample(b, 'tdmpc_eval_return{task="cartpole-swingup"}'))).toBe(true);
    expect(sample(b, 'tdmpc_rate_limiter_wait_seconds_total{side="actor"}')).toBe(0);
  }, 120_000);

  it('both heartbeats move during a long pretraining burst, which takes no step', async () => {
    // Timers run while the burst yields (every ~50 ms), as a Prometheus scrape would.
    const [a, b] = await scrapesWhileRunning((text) => sample(text, UPDATES) > 200,
      ['steps=100000', 'pretrain_updates=1000000', 'eval_episodes=0', `work_dir=${workDir('sync-metrics-burst')}`]);
    expect(sample(b, STEPS)).toBe(101); // the step that starts learning, then the burst
    expect(sample(b, STEPS)).toBe(sample(a, STEPS));
    expect(sample(b, UPDATES)).toBeGreaterThan(sample(a, UPDATES));
    expectHeartbeatsMoved(a, b);
  }, 120_000);

  it('both heartbeats move during a long evaluation', async () => {
    // The evaluation at step 0 plans 1000 steps with a wide planner (seconds); the stop cancels it.
    const [a, b] = await scrapesWhileRunning(() => true, ['episode_length=1000', 'eval_episodes=1', 'num_samples=2048', 'iterations=8',
      'eval_freq=100000', 'steps=100000', `work_dir=${workDir('sync-metrics-eval')}`]);
    expect(sample(b, STEPS)).toBe(0); // still in the evaluation at step 0
    expectHeartbeatsMoved(a, b);
  }, 120_000);

  it('counters continue from the checkpoint after resume=', async () => {
    const work = workDir('sync-metrics-resume');
    const port = await freePort();
    const first = await runTraining([...TINY_SYNC, `metrics.port=${port}`, 'steps=400', 'eval_episodes=0', `work_dir=${work}`]);
    const saved = first.state as TrainerState;
    expect(saved.step).toBe(400);
    let atStart: Promise<string> | null = null;
    let text = '';
    const ckpt = path.join(first.dir, 'checkpoints', 'final.ckpt');
    await runTraining([`resume=${ckpt}`, 'steps=440', 'progress=false'], {
      afterStep: () => { atStart ??= fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).then((t) => { text = t; return t; }); },
      shouldStop: () => text !== '',
    });
    expect(sample(text, STEPS)).toBeGreaterThan(400);
    expect(sample(text, UPDATES)).toBeGreaterThan(saved.updates);
    expect(sample(text, 'tdmpc_episodes_total{task="cartpole-swingup"}')).toBeGreaterThanOrEqual(8);
  }, 120_000);
});
