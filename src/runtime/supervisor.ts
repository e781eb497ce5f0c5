// Supervision of the threads of a run (main thread). Starts the learner and the actors, talks to
// them over comlink (stats, pause, resume, checkpoint), and restarts an actor that throws or dies:
//
//   actor thread fails ──► wait until the thread has exited (it writes nothing more)
//                     ──► close its metrics block, hand its claimed-but-uncommitted steps back
//                     ──► log + tdmpc_actor_crashes_total / tdmpc_actor_restarts_total
//                     ──► restart after backoff: 100 ms x 2^(failures in a row - 1), at most 5 s
// The new thread takes over the same replay shard: it closes a write its predecessor left open and
// starts fresh episodes, so the unfinished episode is dropped (its committed steps stay valid data,
// nothing committed is lost). An actor that fails `maxFailures` times in a row without committing a
// step fails the run. A learner failure is not restarted: the run stops and keeps its last checkpoint.
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './endpoint.js';
import { workerFile } from './paths.js';
import { ActorFailure, LearnerFailure, RuntimeError } from './errors.js';
import { repairBlock } from '../metrics/block.js';
import type { RunMetrics } from '../metrics/registry.js';
import type { RunHeader } from './header.js';
import type { ActorApi, ActorInit, ActorStats, LearnerApi, LearnerInit, LearnerStats, RunPlan, RuntimeBuffers } from './control.js';

export interface SupervisorOptions {
  /** Consecutive failures without progress after which the run fails. */
  maxFailures: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  log: (line: string) => void;
}

interface ActorSlot {
  index: number;
  worker: Worker | null;
  api: Comlink.Remote<ActorApi> | null;
  incarnation: number;
  restarts: number;
  failuresInRow: number;
  /** Resolves when the current thread has exited. */
  exited: Promise<void>;
  /** Set once run() returned normally (the thread is then terminated on purpose). */
  finished: boolean;
  failing: boolean;
  restartTimer: NodeJS.Timeout | null;
  lastStats: ActorStats | null;
}

export class Supervisor {
  private readonly slots: ActorSlot[] = [];
  private learner: { worker: Worker; api: Comlink.Remote<LearnerApi>; exited: Promise<void> } | null = null;
  private paused = false;
  private stopping = false;
  private failRun: (err: Error) => void = () => undefined;
  private allFinishedResolve: () => void = () => undefined;
  /** Rejects when an actor cannot be kept alive or the learner fails. */
  readonly failure: Promise<never>;
  /** Resolves when every actor slot's loop has returned normally. */
  readonly actorsFinished: Promise<void>;
  readonly crashLog: string[] = [];

  constructor(
    readonly plan: RunPlan,
    readonly buffers: RuntimeBuffers,
    readonly header: RunHeader,
    readonly metrics: RunMetrics | null,
    readonly opts: SupervisorOptions,
  ) {
    this.failure = new Promise<never>((_, reject) => { this.failRun = reject; });
    this.failure.catch(() => undefined); // observed by the run loop; never unhandled
    this.actorsFinished = new Promise<void>((resolve) => { this.allFinishedResolve = resolve; });
  }

  // ---------------------------------------------------------------- learner
  /** Starts the learner thread; resolves once it built its agent and published version `updates`. */
  async startLearner(resumeFrom: string | null): Promise<Comlink.Remote<LearnerApi>> {
    const init: LearnerInit = { ...this.plan, buffers: this.buffers, resumeFrom };
    const worker = new Worker(workerFile('learner/learner-worker'), { workerData: init, name: 'tdmpc-learner' });
    const api = Comlink.wrap<LearnerApi>(nodeEndpoint(worker));
    let lastError: unknown = null;
    worker.on('error', (err) => { lastError = err; });
    const exited = new Promise<void>((resolve) => worker.once('exit', (code) => {
      if (!this.stopping) this.failRun(new LearnerFailure(`learner thread exited unexpectedly (code ${code})${lastError ? `: ${(lastError as Error).message}` : ''}`));
      resolve();
    }));
    this.learner = { worker, api, exited };
    await Promise.race([api.stats(), this.failure]);
    return api;
  }

  /** The learner's run(): resolves with its final stats; a throw fails the run. */
  runLearner(): Promise<LearnerStats> {
    const l = this.learner;
    if (!l) throw new RuntimeError('runLearner() before startLearner()');
    const p = l.api.run();
    p.catch((err: Error) => this.failRun(new LearnerFailure(`learner failed: ${err?.message ?? String(err)}`)));
    return p;
  }

  learnerApi(): Comlink.Remote<LearnerApi> {
    if (!this.learner) throw new RuntimeError('no learner thread');
    return this.learner.api;
  }

  // ---------------------------------------------------------------- actors
  startActors(): void {
    for (let a = 0; a < this.buffers.actors; a++) {
      const slot: ActorSlot = {
        index: a, worker: null, api: null, incarnation: -1, restarts: 0, failuresInRow: 0,
        exited: Promise.resolve(), finished: false, failing: false, restartTimer: null, lastStats: null,
      };
      this.slots.push(slot);
      this.spawn(slot);
    }
  }

  private spawn(slot: ActorSlot): void {
    slot.restartTimer = null;
    if (this.stopping) return;
    slot.incarnation++;
    slot.finished = false;
    slot.failing = false;
    const a = slot.index;
    const init: ActorInit = { ...this.plan, actor: a, incarnation: slot.incarnation, buffers: this.buffers };
    const worker = new Worker(workerFile('actors/actor-worker'), { workerData: init, name: `tdmpc-actor-${a}` });
    const api = Comlink.wrap<ActorApi>(nodeEndpoint(worker));
    slot.worker = worker;
    slot.api = api;
    const committedBefore = this.header.insertedBy(a);
    let lastError: unknown = null;
    worker.on('error', (err) => { lastError = err; });
    slot.exited = new Promise<void>((resolve) => worker.once('exit', (code) => {
      resolve();
      if (slot.worker !== worker) return;
      if (!slot.finished) void this.onActorFailure(slot, worker, committedBefore, 'exit', lastError ?? new Error(`thread exited with code ${code}`));
    }));
    api.run(this.paused).then(
      (stats) => {
        if (slot.worker !== worker) return;
        slot.finished = true;
        slot.lastStats = stats;
        void worker.terminate();
        this.checkAllFinished();
      },
      (err: unknown) => {
        if (slot.worker !== worker) return;
        void this.onActorFailure(slot, worker, committedBefore, 'error', err);
      },
    );
  }

  private async onActorFailure(slot: ActorSlot, worker: Worker, committedBefore: number, reason: 'error' | 'exit', err: unknown): Promise<void> {
    if (slot.failing || slot.worker !== worker) return;
    slot.failing = true;
    const a = slot.index;
    // The thread must be gone before its shared state is repaired: it might still be writing.
    await worker.terminate();
    await slot.exited;
    repairBlock(this.buffers.actorBlocks[a]);
    const released = this.header.releaseLostClaims(a);
    const progressed = this.header.insertedBy(a) > committedBefore;
    slot.failuresInRow = progressed ? 1 : slot.failuresInRow + 1;
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    this.metrics?.actorCrashes.inc({ actor: String(a), reason });
    if (this.stopping) {
      slot.finished = true;
      this.checkAllFinished();
      return;
    }
    if (slot.failuresInRow > this.opts.maxFailures) {
      const line = `actor ${a} failed ${slot.failuresInRow} times in a row without committing a step; last error: ${message}`;
      this.crashLog.push(line);
      this.failRun(new ActorFailure(line));
      return;
    }
    const delay = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** (slot.failuresInRow - 1));
    const line = `actor ${a} (thread ${slot.incarnation}) ${reason === 'exit' ? 'died' : 'threw'}: ${message}; its unfinished episodes are dropped${released ? `, ${released} uncommitted steps handed back` : ''}; restarting in ${delay} ms`;
    this.crashLog.push(line);
    this.opts.log(line);
    slot.restarts++;
    this.metrics?.actorRestarts.inc({ actor: String(a) });
    slot.restartTimer = setTimeout(() => this.spawn(slot), delay);
  }

  private checkAllFinished(): void {
    if (this.slots.length > 0 && this.slots.every((s) => s.finished)) this.allFinishedResolve();
  }

  /** Test hook: kills actor a's thread at whatever instruction it is executing. */
  async killActor(a: number): Promise<void> {
    await this.slots[a]?.worker?.terminate();
  }

  /** Test hook: actor a throws from the middle of its next vector step. */
  async faultActor(a: number): Promise<void> {
    await this.slots[a]?.api?.injectFault();
  }

  /** Test hook: the learner throws before its next update. */
  async faultLearner(): Promise<void> {
    await this.learner?.api.injectFault();
  }

  restarts(): number[] {
    return this.slots.map((s) => s.restarts);
  }

  /** Per-actor stats over comlink (null for an actor that is restarting or finished). */
  async actorStats(): Promise<(ActorStats | null)[]> {
    return Promise.all(this.slots.map(async (s) => {
      if (s.finished || s.failing || !s.api) return s.lastStats;
      return Promise.race([s.api.stats(), s.exited.then(() => null)]);
    }));
  }

  /** Parks every actor at a step boundary (resolves once none is writing replay). */
  async pauseActors(): Promise<void> {
    this.paused = true;
    await Promise.all(this.slots.map((s) => {
      if (s.finished || s.failing || !s.api) return undefined;
      return Promise.race([s.api.pause(), s.exited]);
    }));
  }

  resumeActors(): void {
    this.paused = false;
    for (const s of this.slots) if (!s.finished && !s.failing) void s.api?.resume();
  }

  // ---------------------------------------------------------------- shutdown
  /** Graceful stop: actors finish their step and return; pending restarts are cancelled. */
  async stopActors(timeoutMs = 60_000): Promise<void> {
    this.stopping = true;
    this.header.requestStop();
    for (const s of this.slots) {
      if (s.restartTimer) { clearTimeout(s.restartTimer); s.restartTimer = null; s.finished = true; }
    }
    this.resumeActors();
    const all = Promise.all(this.slots.map((s) => s.exited));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((r) => { timer = setTimeout(r, timeoutMs); })]);
    clearTimeout(timer);
  }

  /** Terminates every thread (after stopActors, or on failure). */
  async shutdown(): Promise<void> {
    this.stopping = true;
    this.header.requestStop();
    for (const s of this.slots) if (s.restartTimer) clearTimeout(s.restartTimer);
    await Promise.all(this.slots.map((s) => s.worker?.terminate()));
    if (this.learner) await this.learner.worker.terminate();
  }
}
