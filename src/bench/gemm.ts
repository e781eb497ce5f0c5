// `tdmpc bench gemm` (options: USAGE): GEMM throughput of the native engine on the
// [536x512]x[512x512] product (one MPPI step's batch of 512 samples + 24 policy trajectories
// through a 512-wide layer) in three transpose variants, against the FMA peak measured in the
// same run. Acceptance target: every variant >= 65% of peak on 2 threads.
//   nn: C = A·B,   A [M,K], B [K,N]
//   nt: C = A·Bᵀ,  A [M,K], B [N,K]   (a Linear layer's forward, x·Wᵀ)
//   tn: C = Aᵀ·B,  A [K,M], B [K,N]   (a weight gradient, doutᵀ·x)
//
// The peak is sampled between the GEMM samples of every repetition and each number is a median, so
// the fraction compares GEMM and peak under the same conditions (these VMs share cores with others).
import { CliError } from '../errors.js';
import { threadsFlag, type BenchArgs } from './index.js';
import { nativeEngineForBench, round1 } from './peak.js';

export const USAGE = 'tdmpc bench gemm [--threads N] [--reps R] [--json]';

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
  const threads = threadsFlag(args, 'gemm');
  const reps = Number(args.flags.reps ?? '21');
  if (!Number.isInteger(reps) || reps < 3 || reps > 1000) throw new CliError(`--reps must be an integer in [3, 1000], got '${String(args.flags.reps)}'`);
  const engine = nativeEngineForBench(threads);
  try {
    const A = filled(M * K, 1);
    const B = filled(K * N, 2);
    const bias = filled(N, 3);
    const C = new Float32Array(M * N);
    const flop = 2 * M * N * K;
    const inner = 8; // GEMM calls per timed sample (~10 ms)
    const variants = Object.keys(VARIANTS) as Variant[];

    // Warm-up: clocks, the pool's threads, the packing buffers.
    engine.peakGflops(0.1);
    for (const v of variants) {
      const [ta, tb] = VARIANTS[v];
      for (let i = 0; i < 10; i++) engine.gemm(ta, tb, M, N, K, A, 0, B, 0, C, 0, bias, 0, false);
    }

    const peaks: number[] = [];
    const times: Record<Variant, number[]> = { nn: [], nt: [], tn: [] };
    for (let r = 0; r < reps; r++) {
      peaks.push(engine.peakGflops(0.02));
      for (const v of variants) {
        const [ta, tb] = VARIANTS[v];
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < inner; i++) engine.gemm(ta, tb, M, N, K, A, 0, B, 0, C, 0, bias, 0, false);
        times[v].push(Number(process.hrtime.bigint() - t0) * 1e-9 / inner);
      }
    }
    const peak = median(peaks);
    const gflops = {} as Record<Variant, number>;
    const fraction = {} as Record<Variant, number>;
    for (const v of variants) {
      const g = flop / median(times[v]) * 1e-9;
      gflops[v] = round1(g);
      fraction[v] = Math.round((g / peak) * 1000) / 1000;
      if (!args.json) console.log(`gemm ${v} ${M}x${N}x${K}: ${gflops[v]} GFLOP/s = ${(fraction[v] * 100).toFixed(1)}% of peak`);
    }
    if (!args.json) console.log(`peak: ${round1(peak)} GFLOP/s (${threads} thread(s), ${engine.simd})`);
    return {
      bench: 'gemm', shape: `${M}x${N}x${K}`, gflops, threads, peak_gflops: round1(peak), fraction_of_peak: fraction,
      simd: engine.simd,
    };
  } finally {
    engine.dispose();
  }
}
