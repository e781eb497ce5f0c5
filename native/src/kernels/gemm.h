// GEMM driver (BLIS-style loops around gemm_micro), generic over the ISA's `GemmIsa` traits
// (MR, NR, KC, pack_a, pack_b):
//
//   for each N block (packed B fits kBPackFloats):
//     phase 1, parallel over NR-column panels: pack op(B)[:, panel] for all of K   -> ctx.bpack
//     phase 2, parallel over tiles (MR-row panels x NR-column panels):
//       for each K block of kc <= KC:
//         (A transposed: pack the tile's A panels for this K block                -> ctx.apack[thread])
//         for each A panel (MR rows; row-major A is read in place):
//           for each B panel: micro-kernel (the A panel, 6 KiB, stays in L1 while this K block's
//           B panels stream from L2; measured faster here than keeping a B panel in L1)
//           on the last K block: optional row epilogue on the A panel's finished rows (fused NormedLinear)
//
// Determinism: each C element is computed by one micro-kernel call per K block, in the same K order,
// whatever the thread count and tiling, so 1 and 2 threads give bit-identical results.

constexpr double kGemmParallelFlops = 2.0e6;  // below: one thread (wake-up costs a few us; notes: 64^3)
constexpr i64 kBPackFloats = i64(1) << 22;    // 16 MiB of packed B per N block
constexpr i64 kMaxTilePanels = 16;            // A panels per tile (scheduling granularity)
constexpr i64 kTailPanelsPerThread = 4;       // with threads: one-panel tiles at the end, for balance

struct NoEpilogue {
  void operator()(i64, i64, int) const {}
};

/** K = 0: C = bias (+ C when accumulating); the sum over an empty K is 0. */
static void gemm_k0(const GemmArgs& g) {
  for (i64 i = 0; i < g.M; ++i) {
    float* c = g.C + i * g.N;
    for (i64 j = 0; j < g.N; ++j) {
      float x = 0.0f;
      if (g.bias) x = x + g.bias[j];
      if (g.accumulate) x = c[j] + x;
      c[j] = x;
    }
  }
}

/**
 * Runs the GEMM; when has_epi, calls epi(m0, m1, thread) once for every row range [m0, m1) after
 * those rows of C are final (inside the tile that computed them when the tile spans all of N).
 */
template <class Isa, class Epi>
static bool gemm_driver(Context& ctx, const GemmArgs& g, const Epi& epi, bool has_epi) {
  constexpr int MR = Isa::MR, NR = Isa::NR, KC = Isa::KC;
  const i64 M = g.M, N = g.N, K = g.K;
  if (M == 0) return true;
  if (N == 0 || K == 0) {
    if (K == 0) gemm_k0(g);
    if (has_epi) epi(0, M, 0);
    return true;
  }
  const bool parallel = ctx.threads() > 1 && 2.0 * double(M) * double(N) * double(K) >= kGemmParallelFlops;
  const int nth = parallel ? ctx.threads() : 1;

  const i64 panels_m = (M + MR - 1) / MR;
  const i64 panels_n = (N + NR - 1) / NR;
  i64 block_panels = kBPackFloats / (K * NR);
  if (block_panels < 1) block_panels = 1;
  if (block_panels > panels_n) block_panels = panels_n;
  const bool fuse_epi = has_epi && block_panels == panels_n;

  // K blocks of equal size (multiple of 16, <= KC): with KC = 384, K = 500 runs as 2 x 256, not 384 + 116.
  const i64 kblocks = (K + KC - 1) / KC;
  i64 kc_step = (K + kblocks - 1) / kblocks;
  kc_step = (kc_step + 15) / 16 * 16;
  if (kc_step > KC) kc_step = KC;

  // Tiles along M. The last kTailPanelsPerThread·threads panels are one-panel tiles, handed out
  // last, so the threads finish within one panel of each other; the panels before them form
  // balanced tiles of at most kMaxTilePanels (fewer, larger tasks).
  const i64 singles = parallel ? (panels_m < kTailPanelsPerThread * nth ? panels_m : kTailPanelsPerThread * nth) : 0;
  const i64 big_panels = panels_m - singles;
  const i64 big_tiles = (big_panels + kMaxTilePanels - 1) / kMaxTilePanels;
  const i64 tiles_m = big_tiles + singles;
  // Few rows (e.g. a weight-gradient GEMM with small M): also split N so both threads get work.
  i64 tiles_n = 1;
  if (parallel && !has_epi && tiles_m < 2 * nth) tiles_n = (2 * nth + tiles_m - 1) / tiles_m;

  if (!ctx.bpack.reserve(size_t(block_panels * K * NR))) return false;
  for (int t = 0; t < nth; ++t) {
    if (g.ta && !ctx.apack[t]->reserve(size_t(kMaxTilePanels * MR * kc_step))) return false;
  }
  float* const bpack = ctx.bpack.data();

  for (i64 jb = 0; jb < panels_n; jb += block_panels) {
    const i64 np = panels_n - jb < block_panels ? panels_n - jb : block_panels;
    auto pack_b = [&](int p, int) {
      const i64 n0 = (jb + p) * NR;
      Isa::pack_b(bpack + p * K * NR, g.B, g.tb, N, K, n0, int(N - n0 < NR ? N - n0 : NR));
    };
    parallel_for(ctx.pool, parallel, int(np), pack_b);

    const i64 tn = tiles_n < np ? tiles_n : np;
    auto tile = [&](int task, int thread) {
      const i64 tm = task / tn, tj = task % tn;
      const i64 pm0 = tm < big_tiles ? tm * big_panels / big_tiles : big_panels + (tm - big_tiles);
      const i64 pm1 = tm < big_tiles ? (tm + 1) * big_panels / big_tiles : pm0 + 1;
      const i64 pn0 = tj * np / tn, pn1 = (tj + 1) * np / tn;
      float* const ap = ctx.apack[thread]->data();
      for (i64 k0 = 0; k0 < K; k0 += kc_step) {
        const int kc = int(K - k0 < kc_step ? K - k0 : kc_step);
        const int mode = k0 > 0 ? kAdd : (g.accumulate ? kStoreAdd : kStore);
        // Row-major A is read in place (each row is a sequential stream along k). Transposed A is
        // packed, the whole tile at once: its MR values per k sit one row of A apart, and packing
        // the tile's panels back to back reuses each row's cache lines from L1.
        if (g.ta) {
          for (i64 pm = pm0; pm < pm1; ++pm) {
            const i64 m0 = pm * MR;
            Isa::pack_a(ap + (pm - pm0) * MR * kc, g.A, g.ta, M, K, m0, int(M - m0 < MR ? M - m0 : MR), k0, kc);
          }
        }
        for (i64 pm = pm0; pm < pm1; ++pm) {
          const i64 m0 = pm * MR;
          const int mr = int(M - m0 < MR ? M - m0 : MR);
          const float* a = g.ta ? ap + (pm - pm0) * MR * kc : g.A + m0 * K + k0;
          const i64 ars = g.ta ? 1 : K, aks = g.ta ? MR : 1;
          for (i64 pn = pn0; pn < pn1; ++pn) {
            const i64 n0 = (jb + pn) * NR;
            const int nr = int(N - n0 < NR ? N - n0 : NR);
            const float* bp = bpack + pn * K * NR + k0 * NR;
            const float* bias = g.bias ? g.bias + n0 : nullptr;
            gemm_micro<MR, NR>(kc, a, ars, aks, bp, g.C + m0 * N + n0, N, mr, nr, bias, mode);
          }
          // The panel's rows are final after the last K block: run the epilogue on them now,
          // while they are still in L1 (after the whole tile they would be in L2).
          if (fuse_epi && k0 + kc >= K) epi(m0, m0 + mr, thread);
        }
      }
    };
    parallel_for(ctx.pool, parallel, int(tiles_m * tn), tile);
  }

  if (has_epi && !fuse_epi) {
    const i64 chunk = 4 * MR;
    auto rows = [&](int task, int thread) {
      const i64 m0 = task * chunk;
      epi(m0, m0 + chunk < M ? m0 + chunk : M, thread);
    };
    parallel_for(ctx.pool, parallel, int((M + chunk - 1) / chunk), rows);
  }
  return true;
}

