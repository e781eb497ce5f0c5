// `tdmpc bench runtime` (options: USAGE)
//
// Runs the same training work in both modes in one invocation: runtime=threads (actors + learner on
// worker threads) and runtime=sync (the one-loop trainer, whose kernels use every core). Both train
// the same model size at the same UTD ratio for the same steps; metrics, evaluation and the replay
// in checkpoints are off so only training is timed. --rounds R repeats the pair R times, alternating
// the order (threads, sync | sync, threads | ...): the default 2 is an ABBA design, so a drift of the
// shared host's speed during the invocation weighs on both modes alike; each mode's rates are then
// pooled over its runs (summed steps / summed window time) and `rounds` lists each pair's ratio.
//
// Timing window: the learning phase, from the last seeding step (env step S0 = learn start) to the
// run's last update, so start-up and seeding (random actions, no updates) do not dilute the
// comparison. Both modes do exactly the same work in it: the pretraining burst, steps - S0 planned
// env steps and their updates. (A window opened after the burst would not be matched: the
// threaded actors run on during the burst, up to the rate limiter's band, so from any later step
// the threaded learner still owes updates for earlier steps; at the default band that was 5% more
// updates than sync's window for the same env steps.) Over the window:
//   env_steps_per_s, updates_per_s, cpu = (user + system CPU seconds of the whole process, all
//   threads) / wall seconds = average cores busy. utd = updates per env step over each run's
//   learning phase (after seeding, pretraining burst excluded), as printed at the end of a run.
// Threaded policy lag (learner version - acting version per stored transition) is over the run
// (the larger of the rounds); `window` holds the last threaded run's durations and waits.
// speedup = threads env_steps_per_s / sync env_steps_per_s.
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CliError, ConfigError } from '../errors.js';
import { positiveFlag, type BenchArgs } from './index.js';
import { runTraining } from '../trainer/run.js';
import type { ThreadedHandle } from '../runtime/run-threaded.js';
import { coresLeftByActors, wholeVectorSteps } from '../config/derive.js';
import { MODEL_SIZES } from '../model/config.js';
import { sumHistograms, sumScalars, type BlockSnapshot } from '../metrics/block.js';

export const USAGE = 'tdmpc bench runtime [--task cartpole-swingup] [--actors 1] [--steps 400] [--seed-steps 200] [--utd 1] [--size 1] '
  + '[--envs 1] [--learner-threads N] [--sync-threads N] [--rounds 2] [--learner-helps-actor true|false] [--actors-help-learner true|false] [--json]';

interface Mark { t: number; cpu: number; steps: number; updates: number }

const cpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const mark = (steps: number, updates: number): Mark => ({ t: performance.now() / 1000, cpu: cpuSeconds(), steps, updates });

function rates(a: Mark, b: Mark) {
  const wall = Math.max(1e-9, b.t - a.t);
  return {
    env_steps_per_s: (b.steps - a.steps) / wall,
    updates_per_s: (b.updates - a.updates) / wall,
    utd: (b.updates - a.updates) / Math.max(1, b.steps - a.steps),
    cpu: (b.cpu - a.cpu) / wall,
    window_s: wall,
  };
}

/** Rates over several windows together: summed steps, updates, CPU and wall time. */
function pooled(runs: readonly { a: Mark; b: Mark }[]) {
  const sum = (f: (r: { a: Mark; b: Mark }) => number) => runs.reduce((x, r) => x + f(r), 0);
  const a: Mark = { t: 0, cpu: 0, steps: 0, updates: 0 };
  const b: Mark = { t: sum((r) => r.b.t - r.a.t), cpu: sum((r) => r.b.cpu - r.a.cpu), steps: sum((r) => r.b.steps - r.a.steps), updates: sum((r) => r.b.updates - r.a.updates) };
  return rates(a, b);
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * Rate-limiter waits and mean durations over a whole threaded run (which side was the bottleneck);
 * plan and env-step means are pooled over all actors.
 */
function waitsOf(blocks: { actors: BlockSnapshot[]; learner: BlockSnapshot } | undefined) {
  if (!blocks) return {};
  const mean = (h: { sum: number; count: number }) => round((1000 * h.sum) / Math.max(1, h.count), 2);
  const actorsMean = (name: string) => mean(sumHistograms(blocks.actors.map((b) => b.histogram(name))));
  return {
    actor_wait_s: round(sumScalars(blocks.actors, 'rate_wait_seconds'), 1),
    learner_wait_s: round(blocks.learner.scalar('rate_wait_seconds'), 1),
    plan_ms: actorsMean('plan_seconds'), env_step_ms: actorsMean('env_step_seconds'),
    update_ms: mean(blocks.learner.histogram('update_seconds')), publish_ms: mean(blocks.learner.histogram('publish_seconds')),
  };
}

/** The config keys bench runtime sets from its flags. */
const FLAG_OF_KEY: Readonly<Record<string, string>> = {
  steps: '--steps', seed_steps: '--seed-steps', utd_ratio: '--utd', num_envs: '--envs', model_size: '--size',
  learner_threads: '--learner-threads', task: '--task',
};

/**
 * A run's config refusal names config keys (learner_threads=100 is refused as the key); the user
 * typed this benchmark's flags, so the message says which flag set each key it names.
 */
function inBenchFlags(err: unknown): unknown {
  if (!(err instanceof ConfigError)) return err;
  // Keys as messages name them: key=value or 'key'.
  const named = Object.keys(FLAG_OF_KEY).filter((k) => new RegExp(`(^|[^a-z_.])${k}(=|')`).test(err.message));
  if (named.length === 0) return err;
  return new CliError(`bench runtime: ${err.message} (here ${named.map((k) => `${k} is ${FLAG_OF_KEY[k]}`).join(', ')})`);
}

export async function bench(args: BenchArgs): Promise<Record<string, unknown>> {
  const f = args.flags;
  const flag = (name: string, dflt: number, integer = true) => positiveFlag(args, 'runtime', name, dflt, integer);
  const task = typeof f.task === 'string' ? f.task : 'cartpole-swingup';
  const cores = os.availableParallelism();
  const actors = flag('actors', 1);
  const steps = flag('steps', 400);
  const seedSteps = flag('seed-steps', 200);
  const utd = flag('utd', 1, false);
  const envs = flag('envs', 1);
  const size = typeof f.size === 'string' ? f.size : '1';
  // Not plan/update's S|M: the runtime benchmark trains a model_size preset.
  if (!(size in MODEL_SIZES)) throw new CliError(`bench runtime: --size must be a model_size preset, one of ${Object.keys(MODEL_SIZES).join(', ')} (millions of parameters), got '${size}'`);
  // Said in the benchmark's own flags (the run's refusal names the config key actors=).
  if (actors > cores) throw new CliError(`bench runtime: --actors ${actors} is more than the ${cores} cores of this machine (each actor keeps a core busy); use --actors ${Math.max(1, cores - 1)} to leave the learner a core, or at most --actors ${cores}`);
  const learnerThreads = flag('learner-threads', coresLeftByActors(actors, cores));
  const syncThreads = flag('sync-threads', cores);
  const boolFlag = (name: string): string => {
    const v = f[name] === undefined ? 'true' : String(f[name]);
    if (v !== 'true' && v !== 'false') throw new CliError(`--${name} must be true or false (got '${v}')`);
    return v;
  };
  const helps = boolFlag('learner-helps-actor');
  const actorsHelp = boolFlag('actors-help-learner');
  const rounds = flag('rounds', 2);
  const pretrain = 10;
  const work = mkdtempSync(path.join(os.tmpdir(), 'tdmpc-bench-runtime-'));
  const common = [
    `task=${task}`, `steps=${steps}`, `seed_steps=${seedSteps}`, `pretrain_updates=${pretrain}`, `utd_ratio=${utd}`,
    `num_envs=${envs}`, `model_size=${size}`, 'eval_episodes=0', 'checkpoint_freq=0', 'save_buffer=false',
    // Every round trains into the same run folder: each starts it afresh.
    'metrics=false', 'progress=false', 'overwrite=true', `work_dir=${work}`,
  ];
  const N = envs;
  const learnStart = wholeVectorSteps(seedSteps, N);
  if (learnStart >= steps) throw new CliError(`--steps (${steps}) must exceed the seed steps (${learnStart}) to leave a learning phase to time`);
  const log = (s: string) => { if (!args.json) console.log(s); else console.error(s); };

  /** One threaded run: its window rates, the run's summary and the rate-limiter waits. */
  const threadsOnce = async () => {
    log(`bench runtime: ${task}, model_size ${size}, utd ${utd}, ${steps} steps (${seedSteps} seeding): threads with ${actors} actor(s) + learner x${learnerThreads} ...`);
    let a: Mark | null = null;
    let b: Mark | null = null;
    let poll: NodeJS.Timeout | null = null;
    let handle: ThreadedHandle | null = null;
    const threaded = await runTraining([...common, 'runtime=threads', `actors=${actors}`, `learner_threads=${learnerThreads}`, `learner_helps_actor=${helps}`, `actors_help_learner=${actorsHelp}`], {
      onThreadsStart: (h: ThreadedHandle) => {
        handle = h;
        const final = h.limiter.finalUpdates;
        poll = setInterval(() => {
          const I = h.header.inserts();
          const U = h.header.updates();
          if (!a && I >= learnStart) a = mark(I, U);
          if (!b && I >= steps && U >= final) { b = mark(I, U); clearInterval(poll!); }
        }, 5);
      },
    });
    if (poll) clearInterval(poll);
    if (!a || !b) throw new CliError('bench runtime: the threaded run ended before its timing window closed');
    // The run's metric blocks, copied now; waitsOf reads the last run's.
    const blocks = (handle as ThreadedHandle | null)?.metrics.snapshot();
    return { a: a as Mark, b: b as Mark, summary: threaded.summary!, blocks };
  };

  /** One synchronous run over the same work: its window marks and realized utd. */
  const syncOnce = async () => {
    log(`bench runtime: sync with ${syncThreads} engine threads ...`);
    let sa: Mark | null = null;
    const sync = await runTraining([...common, 'runtime=sync', `learner_threads=${syncThreads}`], {
      // The window opens after the step that reaches learnStart (its updates: none, target(S0) = 0).
      afterStep: (step, updates) => { if (!sa && step >= learnStart) sa = mark(step, updates); },
    });
    const sb = mark(sync.state.step, sync.state.updates);
    const first = sa as Mark | null;
    if (!first) throw new CliError('bench runtime: the sync run ended before its timing window opened');
    // utd: updates per env step over the learning phase, pretraining burst excluded (the window's
    // ratio, in `window`, includes the burst: (steps - S0) x utd + pretrain_updates over steps - S0).
    return { a: first, b: sb, utd: (sync.state.updates - pretrain) / Math.max(1, sync.state.step - learnStart) };
  };

  try {
    // Rounds alternate the order (threads, sync | sync, threads | ...): with 2 rounds (ABBA) a
    // drift of the host's speed over the invocation weighs on both modes alike.
    const threadRuns: Awaited<ReturnType<typeof threadsOnce>>[] = [];
    const syncRuns: Awaited<ReturnType<typeof syncOnce>>[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) { threadRuns.push(await threadsOnce()); syncRuns.push(await syncOnce()); }
      else { syncRuns.push(await syncOnce()); threadRuns.push(await threadsOnce()); }
    }
    const tr = pooled(threadRuns);
    const sr = pooled(syncRuns);
    const last = threadRuns[threadRuns.length - 1]!;
    const result = {
      bench: 'runtime',
      threads: {
        env_steps_per_s: round(tr.env_steps_per_s), updates_per_s: round(tr.updates_per_s), utd: round(last.summary.utd, 4),
        policy_lag_p50: Math.max(...threadRuns.map((t) => t.summary.policyLagP50)),
        policy_lag_p99: Math.max(...threadRuns.map((t) => t.summary.policyLagP99)), cpu: round(tr.cpu, 2),
      },
      sync: { env_steps_per_s: round(sr.env_steps_per_s), updates_per_s: round(sr.updates_per_s), utd: round(syncRuns[syncRuns.length - 1]!.utd, 4), cpu: round(sr.cpu, 2) },
      speedup: round(tr.env_steps_per_s / sr.env_steps_per_s, 3),
      rounds: threadRuns.map((t, i) => {
        const x = rates(t.a, t.b), y = rates(syncRuns[i]!.a, syncRuns[i]!.b);
        return { threads: round(x.env_steps_per_s), sync: round(y.env_steps_per_s), speedup: round(x.env_steps_per_s / y.env_steps_per_s, 3) };
      }),
      config: { task, actors, num_envs: envs, model_size: size, utd_ratio: utd, steps, seed_steps: seedSteps, learner_threads: learnerThreads, learner_helps_actor: helps === 'true', actors_help_learner: actorsHelp === 'true', sync_threads: syncThreads, cores, rounds },
      window: { threads_s: round(tr.window_s, 1), sync_s: round(sr.window_s, 1), threads_utd: round(tr.utd, 4), sync_utd: round(sr.utd, 4), ...waitsOf(last.blocks) },
    };
    // The synchronous loop keeps every core busy inside its kernels (1.8-1.9 of 2 here when the
    // host leaves the VM alone); well below that, the host took CPU time from this run.
    if (syncThreads === cores && sr.cpu < 0.9 * cores) {
      log(`note: sync kept only ${round(sr.cpu, 2)} of ${cores} cores busy: the host took CPU time from this run, so the ratio is unreliable; run it again`);
    }
    log(`threads: ${result.threads.env_steps_per_s} env steps/s, ${result.threads.updates_per_s} updates/s, cpu ${result.threads.cpu} | sync: ${result.sync.env_steps_per_s} env steps/s, cpu ${result.sync.cpu} | speedup ${result.speedup}${rounds > 1 ? ` (per round: ${result.rounds.map((x) => x.speedup).join(', ')})` : ''}`);
    return result;
  } catch (err) {
    throw inBenchFlags(err);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
