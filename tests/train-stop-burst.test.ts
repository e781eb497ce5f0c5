// A stop inside the synchronous loop's pretraining burst: the burst (pretrain_updates updates
// when seeding ends, minutes at default settings) used to run to its end before Ctrl-C or SIGTERM
// was heeded, so a scheduler's grace period could run out with no checkpoint written. Now the run
// stops within ~50 ms, its checkpoint records the updates still owed, and resume= makes them first.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTraining } from '../src/trainer/run.js';
import { readCheckpoint } from '../src/checkpoint/checkpoint-file.js';
import type { TrainerState } from '../src/trainer/online-trainer.js';
import type { ThreadedHandle } from '../src/runtime/run-threaded.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';

const TINY_SYNC = [
  ...TINY_THREADS.filter((a) => a !== 'runtime=threads' && !a.startsWith('pretrain_updates')),
  'runtime=sync', 'eval_episodes=0', 'checkpoint_freq=0',
];
const PRETRAIN = 3000; // a few seconds of tiny updates

describe('a stop inside the pretraining burst (runtime=sync)', () => {
  for (const [name, steps] of [['mid-run', 200], ['at the last step', 101]] as const) {
    it(`${name}: is heard within the burst; resume= makes the owed updates first`, async () => {
      const work = workDir('stop-burst');
      const args = [...TINY_SYNC, `steps=${steps}`, `pretrain_updates=${PRETRAIN}`, `work_dir=${work}`];
      // shouldStop is asked after each of the 100 seeding steps; the 101st ask is the burst's first.
      let asks = 0;
      const stopped = await runTraining(args, { shouldStop: () => ++asks > 100 });
      const st = stopped.state as TrainerState;
      expect(st.step).toBe(101);
      expect(st.updatesOwed).toBeGreaterThan(0);
      // Heard after at most ~50 ms of updates, not after the whole burst.
      expect(st.updates).toBeLessThan(PRETRAIN / 2);
      expect(st.updates + st.updatesOwed!).toBe(PRETRAIN + 1); // the burst and the step's own update
      const ckpt = path.join(stopped.dir, 'checkpoints', 'step-101.ckpt');
      expect(existsSync(path.join(stopped.dir, 'checkpoints', 'final.ckpt'))).toBe(false);
      expect((readCheckpoint(ckpt).meta.trainer as TrainerState).updatesOwed).toBe(st.updatesOwed);

      const resumed = await runTraining([`resume=${ckpt}`]);
      const end = resumed.state as TrainerState;
      expect(end.step).toBe(steps);
      // Exactly the uninterrupted run's count: the burst, then utd 1 from step 100 on.
      expect(end.updates).toBe(PRETRAIN + (steps - 100));
      expect(end.updatesOwed).toBe(0);
      expect(existsSync(path.join(resumed.dir, 'checkpoints', 'final.ckpt'))).toBe(true);
      const lines = readFileSync(path.join(resumed.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; updates?: number });
      expect(lines[lines.length - 1].updates).toBe(PRETRAIN + (steps - 100));
    }, 120_000);
  }
});

describe('a stop inside the pretraining burst at the last step (runtime=threads)', () => {
  it('resume= finishes the owed updates (it was refused as "nothing is left to train")', async () => {
    const work = workDir('stop-burst-threads');
    const args = [...TINY_THREADS.filter((a) => !a.startsWith('pretrain_updates')), 'steps=101', `pretrain_updates=${PRETRAIN}`, 'eval_episodes=0', 'checkpoint_freq=0', `work_dir=${work}`];
    let run: ThreadedHandle | null = null;
    const stopped = await runTraining(args, {
      onThreadsStart: (h) => { run = h; },
      shouldStop: () => run !== null && run.header.updates() >= 20,
    });
    const s1 = stopped.summary!;
    expect(s1.stopped).toBe(true);
    expect(s1.envSteps).toBe(101);
    expect(s1.updates).toBeLessThan(PRETRAIN);
    expect(s1.checkpoint).toBe(path.join(stopped.dir, 'checkpoints', 'step-101.ckpt'));

    const resumed = await runTraining([`resume=${s1.checkpoint}`, 'progress=false']);
    expect(resumed.summary!.envSteps).toBe(101);
    expect(resumed.summary!.updates).toBe(PRETRAIN + 1);
    expect(resumed.summary!.checkpoint).toBe(path.join(stopped.dir, 'checkpoints', 'final.ckpt'));
  }, 120_000);
});

describe('the CLI inside a long pretraining burst (runtime=sync)', () => {
  it('shows the burst\'s progress every 10 s, and SIGTERM stops it within seconds with the owed updates saved', async () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    const work = workDir('stop-burst-cli');
    const burst = 1_000_000; // hours of tiny updates: only a stop ends it
    const args = [...TINY_SYNC.filter((a) => a !== 'progress=false'), 'steps=200', `pretrain_updates=${burst}`, `work_dir=${work}`];
    const child = spawn(process.execPath, [path.join(root, 'bin', 'tdmpc.js'), 'train', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let termAt = 0;
    const collect = (d: Buffer) => {
      out += d.toString();
      if (!termAt && new RegExp(`step 101/200 .*\\| pretraining \\| .*pretraining \\d+/${burst + 1}`).test(out)) {
        termAt = Date.now();
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code, out).toBe(143);
    expect((Date.now() - termAt) / 1000).toBeLessThan(10);
    expect(out).toMatch(/stopping inside the updates of step 101: \d+ of 1000001 are left; resume= makes them first/);
    const ckpt = path.join(work, 'cartpole-swingup', 'tdmpc2', 'default', 'seed-1', 'checkpoints', 'step-101.ckpt');
    const st = readCheckpoint(ckpt).meta.trainer as TrainerState;
    expect(st.updates + st.updatesOwed!).toBe(burst + 1);

    // Resumed, the owed updates come first and say so; a second stop inside them says so too.
    const again = spawn(process.execPath, [path.join(root, 'bin', 'tdmpc.js'), 'train', `resume=${ckpt}`], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out2 = '';
    let termed = false;
    const collect2 = (d: Buffer) => {
      out2 += d.toString();
      if (!termed && /resuming inside the updates of step 101: the \d+ left come first/.test(out2)) {
        termed = true;
        setTimeout(() => again.kill('SIGTERM'), 500);
      }
    };
    again.stdout.on('data', collect2);
    again.stderr.on('data', collect2);
    const guard = setTimeout(() => again.kill('SIGKILL'), 30_000); // a failing run must not outlive the test
    const code2 = await new Promise<number | null>((resolve) => again.on('exit', (c) => resolve(c)));
    clearTimeout(guard);
    expect(code2, out2).toBe(143);
    expect(out2).toContain(`resuming inside the updates of step 101: the ${st.updatesOwed} left come first`);
    const left = /stopping inside the updates of step 101 again: (\d+) of (\d+) are left; resume= makes them first/.exec(out2);
    expect(left, out2).not.toBeNull();
    expect(Number(left![2])).toBe(st.updatesOwed);
    const st2 = readCheckpoint(ckpt).meta.trainer as TrainerState;
    expect(st2.updatesOwed).toBe(Number(left![1]));
    expect(st2.updates + st2.updatesOwed!).toBe(burst + 1);
  }, 60_000);
});
