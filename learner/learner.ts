// The learning loop (the thread shell is learner-worker.ts): sample horizon+1 slices from the
// shared replay, update the agent, re-plan (lazy reanalysis) on its schedule, and publish the new
// parameters as version = updates done. The update itself is the synchronous trainer's
// updateOnce (src/trainer/online-trainer.ts); the rate limiter's ledger decides when it may run.
import path from 'node:path';
import type { Agent } from '../src/agent/agent.js';
import { RngStream } from '../src/engine/rng.js';
import { allocateBatch, type ReplayBatch, type ReplayBuffer } from '../src/replay/replay-buffer.js';
import { publishLatest, writeCheckpoint } from '../src/checkpoint/checkpoint-file.js';
import { kInsertSeq, LEARNER_DONE, LEARNER_RUNNING, type RunHeader } from '../src/runtime/header.js';
import { lendThread } from '../src/runtime/lend-thread.js';
import type { ParamSnapshot } from '../src/runtime/param-snapshot.js';
import { UpdateLedger, type RateLimiter } from '../src/runtime/rate-limiter.js';
import { yieldToEventLoop } from '../src/runtime/atomics.js';
import type { BlockWriter } from '../src/metrics/block.js';
import { recordUpdate } from '../src/metrics/record.js';
import type { LearnerCheckpointMeta, LearnerInit, LearnerState, LearnerStats } from '../src/runtime/control.js';


type Section = Float32Array | Float64Array | Int32Array | Uint8Array | Uint32Array;

export class InjectedLearnerFault extends Error {
  override name = 'InjectedLearnerFault';
}

export class Learner {
  readonly batch: ReplayBatch;
  readonly sampleRng: RngStream;
  readonly ledger: UpdateLedger;
  updates: number;
  samples: number;
  private faultArmed = false;
  private readonly slot: Record<string, number>;

  constructor(
    readonly init: LearnerInit,
    readonly agent: Agent,
    readonly replay: ReplayBuffer,
    readonly header: RunHeader,
    readonly snapshot: ParamSnapshot,
    readonly limiter: RateLimiter,
    readonly metrics: BlockWriter,
    state: LearnerState | null,
  ) {
    const { cfg, derived } = init;
    this.batch = allocateBatch(cfg.batch_size, cfg.horizon, derived.obsDim, derived.actionDim);
    const rng = state?.sampleRng ?? { seed: (cfg.seed * 7919 + 2) >>> 0, counter: 0 };
    this.sampleRng = new RngStream(rng.seed, rng.counter);
    this.ledger = new UpdateLedger(limiter, state?.ledger);
    this.updates = state?.updates ?? 0;
    this.samples = state?.samples ?? 0;
    this.slot = metrics.layout.slotIndex();
    this.metrics.begin();
    this.metrics.set(this.slot.updates, this.updates);
    this.metrics.set(this.slot.samples, this.samples);
    // Fault counts continue over the run: a resumed agent starts from its checkpoint's.
    const faults = agent.faultTotals();
    this.metrics.set(this.slot.nonfinite_grads, faults.gradEntries);
    this.metrics.set(this.slot.reanalysis_nonfinite_scores, faults.reanalysisPlanScores);
    this.metrics.end();
  }

  stats(): LearnerStats {
    return {
      updates: this.updates, samples: this.samples, version: this.snapshot.latestVersion(),
      inserts: this.header.inserts(), backlog: this.ledger.backlog(this.updates), metrics: { ...this.agent.lastMetrics },
    };
  }

  injectFault(): void {
    this.faultArmed = true;
  }

  /** Publishes the current parameters as version `updates`. */
  publish(): void {
    const t0 = performance.now();
    this.snapshot.publish(this.agent.model.params, this.agent.model.valueTarget, this.updates);
    const s = this.slot;
    this.metrics.begin();
    this.metrics.set(s.version, this.updates);
    this.metrics.add(s.publishes, 1);
    this.metrics.observe('publish_seconds', (performance.now() - t0) / 1000);
    this.metrics.end();
  }

  /** One gradient update (plus lazy reanalysis on its schedule), then publish. */
  updateOnce(): void {
    const { cfg } = this.init;
    const { agent, replay, batch } = this;
    if (this.faultArmed) {
      this.faultArmed = false;
      throw new InjectedLearnerFault('learner: injected fault before an update');
    }
    const t0 = performance.now();
    replay.sample(batch, this.sampleRng);
    this.samples += batch.B;
    this.updates++;
    let reanSeconds = -1;
    let reanalyzed = 0;
    if (cfg.reanalyze_interval > 0 && this.updates % cfg.reanalyze_interval === 0) {
      const t1 = performance.now();
      reanalyzed = agent.reanalyze(batch, replay);
      reanSeconds = (performance.now() - t1) / 1000;
    }
    agent.update(batch, Math.min(1, this.header.inserts() / cfg.steps));
    // The update's own time: reanalysis has its histogram (it re-plans a batch every
    // reanalyze_interval updates, which would otherwise show as a slow update).
    const seconds = (performance.now() - t0) / 1000 - Math.max(0, reanSeconds);
    this.header.setUpdates(this.updates);
    this.publish();
    this.metrics.begin();
    this.metrics.set(this.slot.backlog, this.ledger.backlog(this.updates));
    recordUpdate(this.metrics, this.slot, {
      updates: this.updates, samples: this.samples, seconds, reanalysisSeconds: reanSeconds, reanalyzed, info: agent.lastMetrics,
    });
    this.metrics.end();
  }

  /**
   * Runs updates as the ledger allows until every actor is done and the budget is spent, or a
   * stop is requested. Waits on the insert counter (Atomics.waitAsync) when out of budget.
   */
  async run(): Promise<LearnerStats> {
    const { header, ledger, limiter } = this;
    header.setLearnerState(LEARNER_RUNNING);
    for (;;) {
      if (header.stopRequested()) break;
      const seq = header.insertSeq();
      ledger.sync(header.inserts());
      if (ledger.mayUpdate(this.updates)) {
        this.updateOnce();
        await yieldToEventLoop(); // control messages (stats, checkpoint) run between updates
        continue;
      }
      if (header.allActorsDone() && this.updates >= Math.min(ledger.earned, limiter.finalUpdates)) break;
      const t0 = performance.now();
      await this.waitForInserts(seq);
      const waited = (performance.now() - t0) / 1000;
      this.metrics.begin();
      this.metrics.add(this.slot.rate_wait_seconds, waited);
      this.metrics.set(this.slot.heartbeat_seconds, Date.now() / 1000);
      this.metrics.set(this.slot.backlog, ledger.backlog(this.updates));
      this.metrics.end();
    }
    header.setLearnerState(LEARNER_DONE);
    return this.stats();
  }

  /**
   * Out of update budget: waits until an actor commits a transition. Under learner_helps_actor the
   * wait is spent computing actor 0's planning kernels (helpEngine returns within one kernel task
   * of the insert; 20 ms at most, so control messages still run); otherwise, or while actor 0 has
   * no engine listed (starting, restarting), it sleeps on the insert counter.
   */
  private async waitForInserts(seq: number): Promise<void> {
    if (lendThread(this.init.helpSeatId, this.header.i32, kInsertSeq, seq, this.metrics, this.slot.guest_jobs)) {
      await yieldToEventLoop();
      return;
    }
    await this.header.waitForInsertAfter(seq, 100);
  }

  state(meta: Omit<LearnerCheckpointMeta, 'written'>): LearnerState {
    return {
      runtime: 'threads', step: this.header.inserts(), updates: this.updates, episodes: meta.episodes, samples: this.samples,
      lastReturn: meta.lastReturn, ledger: this.ledger.state(), sampleRng: this.sampleRng.state(), resumes: this.init.resumes,
      actorFaults: meta.actorFaults,
    };
  }

  /** Writes a checkpoint: agent state, learner state and (save_buffer) the whole replay. */
  checkpoint(file: string, meta: LearnerCheckpointMeta): string {
    const { cfg, derived } = this.init;
    const agentState = this.agent.checkpoint();
    const sections: Record<string, Section> = { ...agentState.sections };
    if (cfg.save_buffer) for (const [k, arr] of Object.entries(this.replay.data)) sections[`replay.${k}`] = arr as Section;
    writeCheckpoint(file, { meta: { config: cfg, derived, trainer: this.state(meta), agent: agentState.meta, written: meta.written }, sections });
    publishLatest(file);
    return file;
  }
}
