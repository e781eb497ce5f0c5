// Waiting on shared words without busy loops. Atomics.waitAsync parks a promise until another
// thread calls Atomics.notify on the word (or the timeout passes), so a blocked actor or learner
// keeps its event loop free for control messages (comlink) while it waits.
//
// The race this avoids: "read counter, decide to wait, sleep" loses a wakeup when the other side
// bumps the counter and notifies between the read and the sleep. waitAsync(word, seen) only sleeps
// if the word still holds `seen`, atomically with registering the waiter, so that wakeup cannot
// be missed; the timeout only bounds how late a stop/pause request is noticed.

type WaitResult = 'ok' | 'not-equal' | 'timed-out';

interface AtomicsWithWaitAsync {
  waitAsync(typedArray: Int32Array, index: number, value: number, timeout?: number):
    { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
}

const A = Atomics as unknown as AtomicsWithWaitAsync;

/** Resolves when word `index` of `i32` changes from `seen`, is notified, or `timeoutMs` passes. */
export async function waitWhileEqual(i32: Int32Array, index: number, seen: number, timeoutMs: number): Promise<WaitResult> {
  const r = A.waitAsync(i32, index, seen, timeoutMs);
  return r.async ? await r.value : r.value;
}

/** Lets queued messages (comlink calls) run between two pieces of synchronous work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
