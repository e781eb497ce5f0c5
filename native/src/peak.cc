// Peak FP32 throughput from a tight FMA loop: the denominator of the GEMM benchmark's fraction of
// peak. Each thread runs independent FMA chains (enough to cover latency x ports) on the engine's
// SIMD path; a start barrier makes every pool thread run exactly one task at the same time.
#include <immintrin.h>

#include <atomic>
#include <chrono>

#include "context.h"
#include "kernels.h"

namespace tdmpc {

// Each returns a value depending on every accumulator so the loop cannot be optimized away;
// flops per iteration: chains x lanes x 2.
__attribute__((target("avx512f"))) static float fma_loop_avx512(long iters) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i) acc[i] = _mm512_set1_ps(float(i) * 1e-3f);
  const __m512 m = _mm512_set1_ps(0.9999999f), a = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) acc[i] = _mm512_fmadd_ps(acc[i], m, a);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 24; ++i) s = _mm512_add_ps(s, acc[i]);
  alignas(64) float t[16];
  _mm512_store_ps(t, s);
  float r = 0;
  for (int i = 0; i < 16; ++i) r += t[i];
  return r;
}

__attribute__((target("avx2,fma"))) static float fma_loop_avx2(long iters) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(float(i) * 1e-3f);
  const __m256 m = _mm256_set1_ps(0.9999999f), a = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, a);
  }
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  alignas(32) float t[8];
  _mm256_store_ps(t, s);
  return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}

static float mul_add_loop_scalar(long iters) {
  float acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = float(i) * 1e-3f;
  for (long it = 0; it < iters; ++it) {
    for (int i = 0; i < 16; ++i) acc[i] = acc[i] * 0.9999999f + 1e-7f;
  }
  float s = 0;
  for (int i = 0; i < 16; ++i) s += acc[i];
  return s;
}

static double flops_per_iter(Simd s) { return s == Simd::Avx512 ? 24 * 16 * 2 : s == Simd::Avx2 ? 12 * 8 * 2 : 16 * 2; }

static float run_loop(Simd s, long iters) {
  switch (s) {
    case Simd::Avx512: return fma_loop_avx512(iters);
    case Simd::Avx2: return fma_loop_avx2(iters);
    default: return mul_add_loop_scalar(iters);
  }
}

double measure_peak_gflops(Context& ctx, double seconds) {
  using clock = std::chrono::steady_clock;
  const int nth = ctx.pool.own_threads();  // guest seats have no thread of their own
  const Simd simd = ctx.simd;
  // Calibrate the iterations of one timed slice (~2 ms) on the calling thread.
  long slice = 1000;
  volatile float keep = 0;  // uses every result, so no call is optimized away
  for (;;) {
    const auto t0 = clock::now();
    keep = keep + run_loop(simd, slice);
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    if (dt > 2e-3) break;
    slice *= 2;
  }
  struct Shared {
    std::atomic<int> arrived{0};
    double flops[64] = {};
    double secs[64] = {};
    volatile float sink = 0;
  } sh;
  auto task = [&](int t, int) {
    sh.arrived.fetch_add(1);
    while (sh.arrived.load() < nth) {
    }
    const auto t0 = clock::now();
    double done = 0;
    float sink = 0;
    double dt = 0;
    do {
      sink += run_loop(simd, slice);
      done += double(slice);
      dt = std::chrono::duration<double>(clock::now() - t0).count();
    } while (dt < seconds);
    sh.flops[t] = done * flops_per_iter(simd);
    sh.secs[t] = dt;
    sh.sink = sink;
  };
  parallel_for(ctx.pool, nth > 1, nth, task);
  double total = 0;
  for (int t = 0; t < nth; ++t) total += sh.flops[t] / sh.secs[t];
  return total * 1e-9;
}

}  // namespace tdmpc
