// The native addon in several worker_threads at once: each Worker loads its own instance of the
// addon (Node-API modules are context-aware) and creates an engine with its own 2-thread pool, so
// 4 workers run 8 compute threads on this 2-core machine. Every result must still equal the JS
// engine's, native writes into a SharedArrayBuffer must be visible to the main thread, errors must
// use the class passed in, and a worker must terminate cleanly while inside native calls.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { JsEngine } from '../src/engine/js-engine.js';
import { loadNativeAddon, nativeAddonPath, nativeLoadError } from '../src/engine/native-engine.js';
import { uniformAt } from '../src/engine/rng.js';

const addon = loadNativeAddon();
const required = process.env.TDMPC_REQUIRE_NATIVE === '1';
if (addon === null && !required) console.warn(`engine-threads tests skipped: the native addon is not built (${nativeLoadError()})`);
const describeNative = addon !== null || required ? describe : describe.skip;

const FIXTURE = fileURLToPath(new URL('./fixtures/native-engine-worker.mjs', import.meta.url));

function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 2 * uniformAt(seed, i) - 1;
  return a;
}

/** max |got - want| / (1 + |want|): absolute near zero, relative for large values. */
function maxErr(got: Float32Array, want: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
  return worst;
}

interface WorkerResult {
  id: number;
  simd: string;
  threads: number;
  out: Float32Array;
  uniform: Float32Array;
  error: string;
}

/** Starts the fixture; `done` is its first message, `exited` its exit code (listened to from the start). */
function runWorker(data: Record<string, unknown>): { worker: Worker; done: Promise<WorkerResult>; exited: Promise<number> } {
  const worker = new Worker(FIXTURE, { workerData: { addonPath: nativeAddonPath(), ...data } });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  const done = new Promise<WorkerResult>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    void exited.then((code) => reject(new Error(`worker exited with code ${code} before reporting`)));
  });
  return { worker, done, exited };
}

describeNative('native engine in worker threads', () => {
  it('4 workers with their own 2-thread engines compute at once and all match the JS engine', async () => {
    expect(addon, nativeLoadError()).not.toBeNull();
    const workers = 4;
    const [M, N, K] = [96, 64, 128];
    const A = rand(M * K, 1);
    const B = rand(N * K, 2);
    const bias = rand(N, 3);
    const shared = new SharedArrayBuffer(workers * M * N * 4);
    const start = new SharedArrayBuffer(4);
    const runs = Array.from({ length: workers }, (_, id) =>
      runWorker({ threads: 2, id, M, N, K, A, B, bias, shared, start, workers, reps: 20, mode: 'compute' }));
    const results = await Promise.all(runs.map((r) => r.done));
    expect(await Promise.all(runs.map((r) => r.exited))).toEqual([0, 0, 0, 0]);

    const js = new JsEngine(1);
    const C = new Float32Array(M * N);
    js.gemm(false, true, M, N, K, A, 0, B, 0, C, 0, bias, 0, false);
    const R = 16;
    const [lin, mean, rstd, out] = [new Float32Array(R * N), new Float32Array(R), new Float32Array(R), new Float32Array(R * N)];
    js.normedLinearForward(R, K, N, 1, 0, A, 0, B, 0, bias, 0, new Float32Array(N).fill(1), 0, new Float32Array(N), 0, null, 0,
      lin, 0, mean, 0, rstd, 0, out, 0);

    for (const r of results) {
      expect(r.simd).toBe(addon!.bestSimd);
      expect(r.threads).toBe(2);
      // The GEMM wrote into this worker's slot of the SharedArrayBuffer; the main thread reads it in place.
      expect(maxErr(new Float32Array(shared, r.id * M * N * 4, M * N), C), `worker ${r.id} gemm`).toBeLessThan(1e-5);
      expect(maxErr(r.out, out), `worker ${r.id} normedLinear`).toBeLessThan(1e-4);
      const u = new Float32Array(1000);
      js.randomUniform(1000, r.id, 77, 0, 1, u, 0);
      expect(Array.from(r.uniform)).toEqual(Array.from(u));
      expect(r.error).toBe(`ShapeError: gemm: B needs ${N * K} floats from offset 0 but has 3 (M=${M} N=${N} K=${K} transA=0 transB=1)`);
    }
    // Every worker computed the same GEMM in its own pool: bit-identical slots.
    const first = new Uint8Array(shared, 0, M * N * 4);
    for (let id = 1; id < workers; id++) expect(Buffer.from(new Uint8Array(shared, id * M * N * 4, M * N * 4)).equals(Buffer.from(first))).toBe(true);
  });

  it('a worker terminated in the middle of native calls exits cleanly (its pool is joined)', async () => {
    const [M, N, K] = [256, 256, 256];
    const { worker, done, exited } = runWorker({
      threads: 2, id: 0, M, N, K, A: rand(M * K, 4), B: rand(N * K, 5), bias: rand(N, 6),
      shared: new SharedArrayBuffer(4), start: new SharedArrayBuffer(4), workers: 1, reps: 0, mode: 'spin',
    });
    const started = (await done) as unknown as { started: boolean };
    expect(started.started).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    const code = await worker.terminate();
    expect(code).toBe(1);
    expect(await exited).toBe(1);
  });
});
