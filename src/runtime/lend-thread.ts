// A waiting thread lends itself to another thread's engine (guest seat, native/src/threadpool.h):
// the learner to actor 0 while it waits for transitions, an actor to the learner while the rate
// limiter holds it. One function for both sides, so the wait slice and the job count agree.
import { helpEngine } from '../engine/index.js';
import type { BlockWriter } from '../metrics/block.js';

/** Longest single lend (ms): control messages and stop requests run between two. */
export const LEND_SLICE_MS = 20;

/**
 * Computes kernel tasks of the engine listed under `seatId` while i32[index] === seen (at most
 * LEND_SLICE_MS) and adds the jobs joined to `metrics` at `guestJobsSlot`. Returns false when
 * nothing was lent (no seat id, the seat taken, the engine not listed): the caller sleeps instead.
 */
export function lendThread(seatId: number | null, i32: Int32Array, index: number, seen: number, metrics: BlockWriter, guestJobsSlot: number): boolean {
  if (seatId === null) return false;
  const jobs = helpEngine(seatId, i32, index, seen, LEND_SLICE_MS);
  if (jobs > 0) {
    metrics.begin();
    metrics.add(guestJobsSlot, jobs);
    metrics.end();
  }
  return jobs >= 0;
}
