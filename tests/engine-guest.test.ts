// Guest seats (native/src/threadpool.h): an engine created with guestSeats: 1 and listed with
// offerGuestSeat(id) splits its kernels as for two threads; another thread's helpEngine(id, ...)
// computes some of those tasks while a shared word keeps its value. This is how the learner lends
// its core to actor 0 while it waits for a transition. Checked with a real worker thread as the
// guest: results are bit-identical to a plain one-thread engine, the guest really joins jobs,
// leaves as soon as the word changes, and an engine that is disposed (or never listed) is not
// helped.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createEngine, helpEngine } from '../src/engine/index.js';
import { JsEngine } from '../src/engine/js-engine.js';
import { loadNativeAddon, loadNativeEngine, nativeAddonPath, nativeLoadError } from '../src/engine/native-engine.js';
import { uniformAt } from '../src/engine/rng.js';
import { ACT_MISH, type Engine } from '../src/engine/engine.js';

const addon = loadNativeAddon();
const required = process.env.TDMPC_REQUIRE_NATIVE === '1';
if (addon === null && !required) console.warn(`engine-guest tests skipped: the native addon is not built (${nativeLoadError()})`);
const describeNative = addon !== null || required ? describe : describe.skip;

function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 2 * uniformAt(seed, i) - 1;
  return a;
}

// Word 0: 0 while the guest should help, 1 = stop. Word 1: the guest is up. Words 2-3: jobs
// joined and helpEngine calls, written by the guest when it stops.
const GUEST_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(workerData.path);
const i32 = new Int32Array(workerData.sab);
Atomics.store(i32, 1, 1);
let jobs = 0, calls = 0;
while (Atomics.load(i32, 0) === 0) {
  const r = addon.helpEngine(workerData.id, i32, 0, 0, 20);
  calls++;
  if (r > 0) jobs += r;
}
Atomics.store(i32, 2, jobs);
Atomics.store(i32, 3, calls);
parentPort.postMessage('done');
`;

/** One planning-like pass: a NormedLinear layer (Mish) and a plain GEMM on its output. */
function pass(e: Engine, R: number, x: Float32Array, W1: Float32Array, W2: Float32Array, out: Float32Array): void {
  const H = 384;
  const b = new Float32Array(H), g = new Float32Array(H).fill(1), be = new Float32Array(H);
  const lin = new Float32Array(R * H), mean = new Float32Array(R), rstd = new Float32Array(R), h = new Float32Array(R * H);
  e.normedLinearForward(R, 64, H, ACT_MISH, 8, x, 0, W1, 0, b, 0, g, 0, be, 0, null, 0, lin, 0, mean, 0, rstd, 0, h, 0);
  e.gemm(false, true, R, 101, H, h, 0, W2, 0, out, 0, null, 0, false);
}

describeNative('guest seats: one engine computing with another thread\'s idle time', () => {
  it('a helping worker thread joins the jobs; outputs are bit-identical to a one-thread engine', async () => {
    const id = 424242;
    const host = loadNativeEngine(1, undefined, 1)!;
    const plain = loadNativeEngine(1)!;
    expect(host.offerGuestSeat(id)).toBe(true);
    expect(plain.offerGuestSeat(id + 1)).toBe(false); // no guest seat
    const sab = new SharedArrayBuffer(16);
    const i32 = new Int32Array(sab);
    const guest = new Worker(GUEST_SOURCE, { eval: true, workerData: { path: nativeAddonPath(), sab, id } });
    const done = new Promise((resolve, reject) => { guest.once('message', resolve); guest.once('error', reject); });
    try {
      while (Atomics.load(i32, 1) === 0) await new Promise((r) => setTimeout(r, 2));
      const R = 512;
      const x = rand(R * 64, 1), W1 = rand(384 * 64, 2).map((v) => v * 0.1), W2 = rand(101 * 384, 3).map((v) => v * 0.05);
      const got = new Float32Array(R * 101), want = new Float32Array(R * 101);
      for (let rep = 0; rep < 20; rep++) {
        pass(host, R, x, W1, W2, got);
        pass(plain, R, x, W1, W2, want);
        expect(got).toEqual(want);
      }
    } finally {
      Atomics.store(i32, 0, 1);
      await done;
      await guest.terminate();
      host.dispose();
      plain.dispose();
    }
    expect(Atomics.load(i32, 2)).toBeGreaterThan(0); // jobs the guest joined
  });

  it('returns at once when the word differs, within maxMs when nothing changes, -2 for unknown or disposed engines', () => {
    const id = 434343;
    const i32 = new Int32Array(new SharedArrayBuffer(8));
    expect(helpEngine(id, i32, 0, 0, 5)).toBe(-2); // nothing listed under id
    const host = loadNativeEngine(1, undefined, 1)!;
    host.offerGuestSeat(id);
    let t0 = performance.now();
    expect(helpEngine(id, i32, 0, 7, 1000)).toBe(0); // word (0) != expected (7): leaves at once
    expect(performance.now() - t0).toBeLessThan(500);
    t0 = performance.now();
    expect(helpEngine(id, i32, 0, 0, 30)).toBe(0); // no jobs: leaves after maxMs
    const dt = performance.now() - t0;
    expect(dt).toBeGreaterThanOrEqual(29);
    host.dispose();
    expect(helpEngine(id, i32, 0, 0, 5)).toBe(-2); // dispose unlists it
  });

  it('bad arguments are refused with the field named', () => {
    expect(() => createEngine({ threads: 1, guestSeats: 2 })).toThrow(/guestSeats must be 0 or 1/);
    const i32 = new Int32Array(4);
    expect(() => helpEngine(1, i32, 9, 0, 1)).toThrow(/index 9 outside the Int32Array of length 4/);
    expect(() => addon!.helpEngine(1, new Float32Array(4) as unknown as Int32Array, 0, 0, 1)).toThrow(/Int32Array/);
  });
});

describe('guest seats on the JS engine', () => {
  it('offerGuestSeat is false: the reference engine computes on the calling thread only', () => {
    expect(new JsEngine(1).offerGuestSeat(5)).toBe(false);
  });
});
