// `tdmpc bench peak` (options: USAGE): FP32 peak of this machine from a tight FMA loop
// in native code (independent FMA chains on the engine's SIMD path, every thread at once), for
// 1..N threads. It is the denominator of the GEMM benchmark's fraction of peak.
import { CliError } from '../errors.js';
import { loadNativeEngine, nativeLoadError, type NativeEngine } from '../engine/native-engine.js';
import { threadsFlag, type BenchArgs } from './index.js';

export const USAGE = 'tdmpc bench peak [--threads N] [--seconds S] [--json]';

/** A native engine for a benchmark, or a CliError that says why there is none. */
export function nativeEngineForBench(threads: number): NativeEngine {
  const engine = loadNativeEngine(threads);
  if (engine === null) {
    throw new CliError(`this benchmark needs the native engine, which is unavailable (${nativeLoadError()}); run \`npm install\``);
  }
  return engine as NativeEngine;
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Median of `samples` short measurements (robust to another process taking a core for a moment). */
function peakOf(engine: NativeEngine, seconds: number): number {
  const samples = 10;
  const xs: number[] = [];
  for (let i = 0; i < samples; i++) xs.push(engine.peakGflops(seconds / samples));
  xs.sort((a, b) => a - b);
  return xs[Math.floor(samples / 2)]!;
}

export async function bench(args: BenchArgs): Promise<Record<string, unknown>> {
  const threads = threadsFlag(args, 'peak');
  const seconds = Number(args.flags.seconds ?? '1');
  if (!(seconds > 0 && seconds <= 30)) throw new CliError(`--seconds must be in (0, 30], got '${String(args.flags.seconds)}'`);
  const perThreads: Record<string, number> = {};
  let simd = '';
  let gflops = 0;
  for (let t = 1; t <= threads; t++) {
    const engine = nativeEngineForBench(t);
    try {
      engine.peakGflops(0.1); // warm up the clocks and wake the pool
      const g = peakOf(engine, seconds);
      perThreads[String(t)] = round1(g);
      simd = engine.simd;
      if (t === threads) gflops = g;
      if (!args.json) console.log(`peak: ${g.toFixed(1)} GFLOP/s on ${t} thread(s), ${engine.simd}`);
    } finally {
      engine.dispose();
    }
  }
  return { bench: 'peak', gflops: round1(gflops), threads, simd, per_threads: perThreads };
}
