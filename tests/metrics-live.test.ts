// What a scrape shows while a threaded run is in a long state and across a resume:
// - during the pretraining burst the actor is blocked by the rate limiter for minutes at default
//   settings; its heartbeat and its rate-limiter wait must keep moving (they froze until the wait
//   ended), and the crash counters exist at 0 before any crash;
// - after resume=, tdmpc_env_steps_total and tdmpc_episodes_total continue from the checkpoint,
//   like tdmpc_replay_inserts_total and tdmpc_learner_updates_total (they restarted at 0).
import { describe, expect, it } from 'vitest';
import { runTraining } from '../src/trainer/run.js';
import type { ThreadedHandle } from '../src/runtime/run-threaded.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The value of one series in an exposition text (NaN when absent). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

describe('live metrics of a threaded run', () => {
  it('the actor\'s heartbeat and rate-limiter wait move during a long pretraining wait', async () => {
    let run: ThreadedHandle | null = null;
    let done = false;
    let failure: unknown = null;
    const scrapes: string[] = [];
    await runTraining([...TINY_THREADS, 'steps=100000', 'pretrain_updates=1000000', 'eval_freq=100000', 'checkpoint_freq=0',
      `work_dir=${workDir('live')}`], {
      onThreadsStart: (h) => {
        run = h;
        (async () => {
          // Seeding (100 steps) ends, then the actor waits for the burst: scrape twice inside it.
          while (h.header.updates() < 5) await sleep(50);
          await sleep(1500);
          scrapes.push(await (await fetch(h.metricsUrl!)).text());
          await sleep(2500);
          scrapes.push(await (await fetch(h.metricsUrl!)).text());
          const head = await fetch(h.metricsUrl!, { method: 'HEAD' });
          const post = await fetch(h.metricsUrl!, { method: 'POST' });
          scrapes.push(`${head.status} ${post.status}`);
        })().then(() => { done = true; }, (err) => { failure = err; done = true; });
      },
      shouldStop: () => done,
    });
    if (failure) throw failure;
    expect(run).not.toBeNull();
    const [a, b, methods] = scrapes;
    expect(methods).toBe('200 405');
    const heartbeat = 'tdmpc_actor_last_heartbeat_timestamp_seconds{actor="0"}';
    const wait = 'tdmpc_rate_limiter_wait_seconds_total{side="actor"}';
    // Still in the burst: no step between the scrapes (the step that starts learning goes through).
    const steps = 'tdmpc_env_steps_total{task="cartpole-swingup"}';
    expect(sample(a, steps)).toBeLessThanOrEqual(101);
    expect(sample(b, steps)).toBe(sample(a, steps));
    expect(sample(b, heartbeat) - sample(a, heartbeat)).toBeGreaterThan(1.5);
    expect(sample(a, wait)).toBeGreaterThan(0.5);
    expect(sample(b, wait) - sample(a, wait)).toBeGreaterThan(1.5);
    expect(sample(b, 'tdmpc_actor_crashes_total{actor="0",reason="exit"}')).toBe(0);
    expect(sample(b, 'tdmpc_actor_crashes_total{actor="0",reason="error"}')).toBe(0);
  }, 60_000);

  it('env step and episode counters continue from the checkpoint after resume=', async () => {
    const work = workDir('live-resume');
    let run: ThreadedHandle | null = null;
    const first = await runTraining([...TINY_THREADS, 'steps=400', 'eval_episodes=0', 'seed=5', `work_dir=${work}`], {
      onThreadsStart: (h) => { run = h; },
      shouldStop: () => run !== null && run.header.inserts() >= 250,
    });
    const s1 = first.summary!;
    expect(s1.stopped).toBe(true);
    let atStart = '';
    const second = await runTraining([`resume=${s1.checkpoint}`, 'progress=false'], {
      onThreadsStart: async (h) => { atStart = await (await fetch(h.metricsUrl!)).text(); },
    });
    expect(second.summary!.envSteps).toBe(400);
    const steps = sample(atStart, 'tdmpc_env_steps_total{task="cartpole-swingup"}');
    expect(steps).toBeGreaterThanOrEqual(s1.envSteps);
    expect(steps).toBeLessThanOrEqual(400);
    // 50-step episodes: the checkpointed run had finished s1.envSteps / 50 of them.
    expect(sample(atStart, 'tdmpc_episodes_total{task="cartpole-swingup"}')).toBeGreaterThanOrEqual(Math.floor(s1.envSteps / 50));
  }, 60_000);
});
