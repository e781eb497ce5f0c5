// The run header: the few shared Int32 counters that actors, learner and main thread coordinate
// through (Reverb keeps the same numbers inside its rate limiter). Slots are named constants
// (piscina's kRequestCountField style); the main thread allocates the SharedArrayBuffer before
// any thread starts.
//
//   word                    writer                 meaning
//   kStepsClaimed           actors (Atomics.add)   env steps handed out; an actor claims N (= num_envs)
//                                                  before each vector step, so the run stops at exactly
//                                                  ceil(steps / N) * N steps like the synchronous loop
//   kInsertSeq              actors                 bumped after every committed vector step; the learner
//                                                  waits on it (Atomics.waitAsync)
//   kUpdates                learner                gradient updates done; actors wait on it
//   kStop                   main                   1 = stop gracefully (Ctrl-C, end of run, failure)
//   kEpisodes               actors                 finished episodes, all actors
//   kLearnerState           learner                0 starting, 1 running, 2 done, 3 failed
//   actor a, at kActorBase + a * ACTOR_WORDS:
//     +0 claimed            actor a                env steps it claimed (all incarnations)
//     +1 inserted           actor a                env steps it committed to replay (all incarnations)
//     +2 done               actor a                1 once it found no more steps to claim
//
// Inserts (env steps committed) = sum over actors of `inserted`, so an actor that dies between
// claiming and committing leaves `claimed - inserted` steps that the supervisor hands back
// (releaseLostClaims) for the restarted actor to redo: nothing is counted twice or lost.

import { waitWhileEqual } from './atomics.js';

export const kStepsClaimed = 0;
export const kInsertSeq = 1;
export const kUpdates = 2;
export const kStop = 3;
export const kEpisodes = 4;
export const kLearnerState = 5;
const kActorBase = 8;
const ACTOR_WORDS = 4;
const A_CLAIMED = 0;
const A_INSERTED = 1;
const A_DONE = 2;

export const LEARNER_STARTING = 0;
export const LEARNER_RUNNING = 1;
export const LEARNER_DONE = 2;
export const LEARNER_FAILED = 3;

export function headerBytes(actors: number): number {
  return (kActorBase + actors * ACTOR_WORDS) * 4;
}

export class RunHeader {
  readonly i32: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer, readonly actors: number) {
    this.i32 = new Int32Array(buffer);
    if (buffer.byteLength < headerBytes(actors)) throw new RangeError(`run header: ${buffer.byteLength} bytes is too small for ${actors} actors`);
  }

  static allocate(actors: number): RunHeader {
    return new RunHeader(new SharedArrayBuffer(headerBytes(actors)), actors);
  }

  private actorWord(a: number, w: number): number {
    return kActorBase + a * ACTOR_WORDS + w;
  }

  /** Starts the counters at a resumed run's step count (all of it attributed to actor 0). */
  initialize(step: number, updates: number, episodes: number): void {
    Atomics.store(this.i32, kStepsClaimed, step);
    Atomics.store(this.i32, kUpdates, updates);
    Atomics.store(this.i32, kEpisodes, episodes);
    if (this.actors > 0) {
      Atomics.store(this.i32, this.actorWord(0, A_CLAIMED), step);
      Atomics.store(this.i32, this.actorWord(0, A_INSERTED), step);
    }
  }

  // ---------------------------------------------------------------- actor side
  /**
   * Claims n env steps for actor a; returns the global index of the first claimed step, or -1 if
   * the run's `total` steps are all handed out. The per-actor record follows the global claim at
   * once; see releaseLostClaims for the window between the two.
   */
  claim(a: number, n: number, total: number): number {
    for (;;) {
      const c = Atomics.load(this.i32, kStepsClaimed);
      if (c >= total) return -1;
      if (Atomics.compareExchange(this.i32, kStepsClaimed, c, c + n) === c) {
        Atomics.add(this.i32, this.actorWord(a, A_CLAIMED), n);
        return c;
      }
    }
  }

  /** Actor a committed n env steps to replay: count them and wake the learner. */
  commit(a: number, n: number): void {
    Atomics.add(this.i32, this.actorWord(a, A_INSERTED), n);
    Atomics.add(this.i32, kInsertSeq, 1);
    Atomics.notify(this.i32, kInsertSeq);
  }

  markDone(a: number): void {
    Atomics.store(this.i32, this.actorWord(a, A_DONE), 1);
    Atomics.add(this.i32, kInsertSeq, 1);
    Atomics.notify(this.i32, kInsertSeq);
  }

  isDone(a: number): boolean {
    return Atomics.load(this.i32, this.actorWord(a, A_DONE)) === 1;
  }

  allActorsDone(): boolean {
    for (let a = 0; a < this.actors; a++) if (!this.isDone(a)) return false;
    return true;
  }

  /**
   * After actor a died (its thread has exited): steps it claimed but never committed go back to
   * the pool, so the run still reaches its step count. Returns how many were released.
   */
  releaseLostClaims(a: number): number {
    const lost = Atomics.load(this.i32, this.actorWord(a, A_CLAIMED)) - Atomics.load(this.i32, this.actorWord(a, A_INSERTED));
    if (lost > 0) {
      Atomics.sub(this.i32, kStepsClaimed, lost);
      Atomics.sub(this.i32, this.actorWord(a, A_CLAIMED), lost);
    }
    Atomics.store(this.i32, this.actorWord(a, A_DONE), 0);
    return lost;
  }

  addEpisodes(n: number): void {
    Atomics.add(this.i32, kEpisodes, n);
  }

  // ---------------------------------------------------------------- learner side
  /** Env steps committed to replay, over all actors. */
  inserts(): number {
    let n = 0;
    for (let a = 0; a < this.actors; a++) n += Atomics.load(this.i32, this.actorWord(a, A_INSERTED));
    return n;
  }

  /** Resolves when an actor commits after `seenSeq` (an insertSeq() value), or after `timeoutMs`. */
  waitForInsertAfter(seenSeq: number, timeoutMs: number): Promise<unknown> {
    return waitWhileEqual(this.i32, kInsertSeq, seenSeq, timeoutMs);
  }

  /**
   * Resolves once inserts() reaches `target` or `timeoutMs` passes, waking on each commit
   * meanwhile. The supervision loop waits here for a due checkpoint or evaluation step, so it acts
   * when the actors commit it instead of up to a tick later.
   */
  async waitUntilInserts(target: number, timeoutMs: number): Promise<void> {
    const end = performance.now() + timeoutMs;
    for (;;) {
      const seq = this.insertSeq();
      if (this.inserts() >= target) return;
      const left = end - performance.now();
      if (left <= 0) return;
      await this.waitForInsertAfter(seq, left);
    }
  }

  insertedBy(a: number): number {
    return Atomics.load(this.i32, this.actorWord(a, A_INSERTED));
  }

  claimed(): number {
    return Atomics.load(this.i32, kStepsClaimed);
  }

  insertSeq(): number {
    return Atomics.load(this.i32, kInsertSeq);
  }

  updates(): number {
    return Atomics.load(this.i32, kUpdates);
  }

  /** The learner finished an update: publish the count and wake actors waiting on the limiter. */
  setUpdates(u: number): void {
    Atomics.store(this.i32, kUpdates, u);
    Atomics.notify(this.i32, kUpdates);
  }

  episodes(): number {
    return Atomics.load(this.i32, kEpisodes);
  }

  learnerState(): number {
    return Atomics.load(this.i32, kLearnerState);
  }

  setLearnerState(s: number): void {
    Atomics.store(this.i32, kLearnerState, s);
    this.wakeAll();
  }

  // ---------------------------------------------------------------- main side
  stopRequested(): boolean {
    return Atomics.load(this.i32, kStop) !== 0;
  }

  requestStop(): void {
    Atomics.store(this.i32, kStop, 1);
    this.wakeAll();
  }

  /** Wakes every waiter (stop, learner state change), so nobody sleeps out its timeout. */
  wakeAll(): void {
    Atomics.add(this.i32, kInsertSeq, 1);
    Atomics.notify(this.i32, kInsertSeq);
    Atomics.notify(this.i32, kUpdates);
  }
}
