// `tdmpc bench gemm [--threads N] [--reps R]`: GEMM throughput of the native engine on the
// [536x512]x[512x512] product (one MPPI step's batch of 512 samples + 24 policy trajectories
// through a 512-wide layer) in three transpose variants, against the FMA peak measured in the
// same run. Acceptance target: every variant >= 65% of peak on 2 threads.
//   nn: C = A·B,   A [M,K], B [K,N]
//   nt: C = A·Bᵀ,  A [M,K], B [N,K]   (a Linear layer's forward, x·Wᵀ)
//   tn: C = Aᵀ·B,  A [K,M], B [K,N]   (a weight gradient, doutᵀ·x)
import { CliError } from '../errors.js';
import type { BenchArgs } from './index.js';
import { nativeEngineForBench, round1, threadsFlag } from './peak.js';

const M = 536;
const N = 512;
const K = 512;

const VARIANTS = { nn: [false, false], nt: [false, true], tn: [true, false] } as const;
type Variant = keyof typeof VARIANTS;

function filled(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function bench(args: BenchArgs): Promise<Record<string, unknown>> {
  const threads = threadsFlag(args);
  const reps = Number(args.flags.reps ?? '15');
  if (!Number.isInteger(reps) || reps < 3 || reps > 1000) throw new CliError(`--reps must be an integer in [3, 1000], got '${String(args.flags.reps)}'`);
  const engine = nativeEngineForBench(threads);
  try {
    const A = filled(M * K, 1);
    const B = filled(K * N, 2);
    const bias = filled(N, 3);
    const C = new Float32Array(M * N);
    const flop = 2 * M * N * K;
    // Calls per timed sample: ~20 ms per sample at the expected speed.
    const inner = 16;

    engine.peakGflops(0.1);
    const peak = engine.peakGflops(1);

    const gflops = {} as Record<Variant, number>;
    const fraction = {} as Record<Variant, number>;
    for (const v of Object.keys(VARIANTS) as Variant[]) {
      const [ta, tb] = VARIANTS[v];
      for (let i = 0; i < 10; i++) engine.gemm(ta, tb, M, N, K, A, 0, B, 0, C, 0, bias, 0, false);
      const samples: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < inner; i++) engine.gemm(ta, tb, M, N, K, A, 0, B, 0, C, 0, bias, 0, false);
        const dt = Number(process.hrtime.bigint() - t0) * 1e-9;
        samples.push(dt / inner);
      }
      const t = median(samples);
      gflops[v] = round1(flop / t * 1e-9);
      fraction[v] = Math.round((flop / t * 1e-9 / peak) * 1000) / 1000;
      if (!args.json) console.log(`gemm ${v} ${M}x${N}x${K}: ${(t * 1e3).toFixed(3)} ms, ${gflops[v]} GFLOP/s (${(fraction[v] * 100).toFixed(1)}% of peak)`);
    }
    return {
      bench: 'gemm', shape: `${M}x${N}x${K}`, gflops, threads, peak_gflops: round1(peak), fraction_of_peak: fraction,
      simd: engine.simd,
    };
  } finally {
    engine.dispose();
  }
}
