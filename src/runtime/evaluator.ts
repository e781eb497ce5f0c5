// Evaluation beside training: a piscina pool (one thread) runs evaluation tasks on the newest
// parameter snapshot (actors/eval-worker.ts). A pool fits here because evaluations are
// independent jobs that come and go; actors and the learner are long-lived loops with state
// and are plain supervised worker threads instead.
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { workerFile } from './paths.js';
import { RuntimeError } from './errors.js';
import type { EvalTask, EvalTaskResult, RunPlan } from './control.js';
import type { SnapshotBuffers } from './param-snapshot.js';

export class Evaluator {
  private readonly pool: Piscina;
  private running: Promise<unknown> | null = null;
  private abort: AbortController | null = null;
  /** Evaluations submitted so far (the next task's index). */
  count: number;

  constructor(plan: RunPlan, snapshot: SnapshotBuffers, count: number) {
    this.count = count;
    this.pool = new Piscina({
      filename: pathToFileURL(workerFile('actors/eval-worker')).href,
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: 60_000,
      workerData: { ...plan, snapshot },
    });
  }

  /**
   * Builds the pool thread's agent and environments now (actors/eval-worker.ts warmUp). A failure
   * (e.g. a task_module that throws in worker threads) is a RuntimeError naming this thread: the
   * error piscina hands back is a copy that has lost its class.
   */
  async warmUp(): Promise<void> {
    try {
      await this.pool.run(null, { name: 'warmUp' });
    } catch (err) {
      throw new RuntimeError(`the evaluation thread could not be built: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** Starts an evaluation at env step `step`; `done` receives its result. Skipped if one is running. */
  submit(step: number, done: (step: number, r: EvalTaskResult) => void, failed: (err: Error) => void): boolean {
    if (this.running) return false;
    const task: EvalTask = { index: this.count++ };
    const abort = new AbortController();
    this.abort = abort;
    this.running = (this.pool.run(task, { signal: abort.signal }) as Promise<EvalTaskResult>).then(
      (r) => { this.running = null; done(step, r); },
      (err: Error) => { this.running = null; if (!abort.signal.aborted) failed(err); },
    );
    return true;
  }

  /**
   * Stops the evaluation in flight, if any (a Ctrl-C must not wait for ten planner episodes);
   * its result is dropped. Returns whether one was running.
   */
  async cancel(): Promise<boolean> {
    if (!this.running) return false;
    this.abort?.abort();
    await this.running;
    return true;
  }

  /** Waits for the evaluation in flight, if any. */
  async idle(): Promise<void> {
    await this.running;
  }

  /**
   * Waits for the evaluation in flight unless stop() turns true first (polled every pollMs, as
   * the supervision loop polls it). Returns whether the evaluator is idle.
   */
  async idleUnless(stop: () => boolean, pollMs = 100): Promise<boolean> {
    while (this.running) {
      if (stop()) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.running, new Promise((resolve) => { timer = setTimeout(resolve, pollMs); })]);
      clearTimeout(timer);
    }
    return true;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
