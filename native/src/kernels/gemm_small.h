// GEMM without packing, for products where packing would cost as much as the arithmetic: few rows
// (an actor's batch of 1-16 observations: packing B copies the whole weight matrix per call) or few
// columns (a 1-wide value head, a 6-wide action head, which would fill 32-wide panels with zeros).
//   !tb: "axpy" form: C[i, j..j+4W) += A[i,k]·B[k, j..j+4W) over k, 4 rows x 4 vectors in registers.
//   tb:  "dot" form:  C[i,j] = A[i,:]·B[j,:] with 4 x 4 vector accumulators along k (x·Wᵀ layout).
// Each C element is computed by one block, in one K order, so splitting blocks over threads keeps
// results bit-identical. (ta && tb, rare, goes to the packed path.)

constexpr i64 kSmallRows = 16;           // M up to this: no packing
constexpr i64 kSmallCols = 16;           // N up to this: no packing
constexpr double kSmallFlops = 65536.0;  // tiny products: no packing

static inline bool gemm_small_fits(const GemmArgs& g) {
  if (g.ta && g.tb) return false;
  return g.M <= kSmallRows || g.N <= kSmallCols || 2.0 * double(g.M) * double(g.N) * double(g.K) <= kSmallFlops;
}

/** Stores one C vector: x (+ bias) (+ old C), like the packed path's first K block. */
static inline void small_store(float* c, vf x, const float* bias, bool acc, i64 n) {
  if (n >= W) {
    if (bias) x = vadd(x, vload(bias));
    if (acc) x = vadd(vload(c), x);
    vstore(c, x);
  } else {
    if (bias) x = vadd(x, vload_n(bias, n, 0.0f));
    if (acc) x = vadd(vload_n(c, n, 0.0f), x);
    vstore_n(c, x, n);
  }
}

/** axpy form for rows [i0, i0+MRS) and columns [j0, j0+4W) ∩ [0, N). */
template <int MRS>
static inline void small_axpy_block(const GemmArgs& g, i64 i0, i64 j0) {
  constexpr int NV = 4;
  const i64 M = g.M, N = g.N, K = g.K;
  const i64 left = N - j0;
  vf acc[MRS][NV];
  for (int r = 0; r < MRS; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = vzero();
  const float* b = g.B + j0;
  if (left >= NV * W) {
    for (i64 k = 0; k < K; ++k, b += N) {
      vf bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = vload(b + v * W);
#pragma GCC unroll 4
      for (int r = 0; r < MRS; ++r) {
        const vf av = vset1(g.ta ? g.A[k * M + i0 + r] : g.A[(i0 + r) * K + k]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = vfma(av, bv[v], acc[r][v]);
      }
    }
  } else {
    for (i64 k = 0; k < K; ++k, b += N) {
      vf bv[NV];
      for (int v = 0; v < NV; ++v) {
        const i64 n = left - v * W;
        bv[v] = n >= W ? vload(b + v * W) : n > 0 ? vload_n(b + v * W, n, 0.0f) : vzero();
      }
#pragma GCC unroll 4
      for (int r = 0; r < MRS; ++r) {
        const vf av = vset1(g.ta ? g.A[k * M + i0 + r] : g.A[(i0 + r) * K + k]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = vfma(av, bv[v], acc[r][v]);
      }
    }
  }
  for (int r = 0; r < MRS; ++r) {
    for (int v = 0; v < NV; ++v) {
      const i64 n = left - v * W;
      if (n <= 0) break;
      small_store(g.C + (i0 + r) * N + j0 + v * W, acc[r][v], g.bias ? g.bias + j0 + v * W : nullptr, g.accumulate, n);
    }
  }
}

/** dot form for rows [i0, i0+MRS) and columns [j0, j0+NRS). */
template <int MRS, int NRS>
static inline void small_dot_block(const GemmArgs& g, i64 i0, i64 j0) {
  const i64 N = g.N, K = g.K;
  vf acc[MRS][NRS];
  for (int r = 0; r < MRS; ++r)
    for (int c = 0; c < NRS; ++c) acc[r][c] = vzero();
  const float* a = g.A + i0 * K;
  const float* b = g.B + j0 * K;
  i64 k = 0;
  for (; k + W <= K; k += W) {
    vf av[MRS], bv[NRS];
#pragma GCC unroll 4
    for (int r = 0; r < MRS; ++r) av[r] = vload(a + r * K + k);
#pragma GCC unroll 4
    for (int c = 0; c < NRS; ++c) bv[c] = vload(b + c * K + k);
#pragma GCC unroll 4
    for (int r = 0; r < MRS; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < NRS; ++c) acc[r][c] = vfma(av[r], bv[c], acc[r][c]);
    }
  }
  if (k < K) {
    vf av[MRS], bv[NRS];
    for (int r = 0; r < MRS; ++r) av[r] = vload_n(a + r * K + k, K - k, 0.0f);
    for (int c = 0; c < NRS; ++c) bv[c] = vload_n(b + c * K + k, K - k, 0.0f);
    for (int r = 0; r < MRS; ++r)
      for (int c = 0; c < NRS; ++c) acc[r][c] = vfma(av[r], bv[c], acc[r][c]);
  }
  for (int r = 0; r < MRS; ++r) {
    float* cr = g.C + (i0 + r) * N + j0;
    for (int c = 0; c < NRS; ++c) {
      float x = vsum(acc[r][c]);
      if (g.bias) x = x + g.bias[j0 + c];
      if (g.accumulate) x = cr[c] + x;
      cr[c] = x;
    }
  }
}

template <int MRS>
static inline void small_dot_rows(const GemmArgs& g, i64 i0, i64 j0, i64 j1) {
  i64 j = j0;
  for (; j + 4 <= j1; j += 4) small_dot_block<MRS, 4>(g, i0, j);
  for (; j < j1; ++j) small_dot_block<MRS, 1>(g, i0, j);
}

/** Rows [i0, i1) x columns [j0, j1) of C (j0 a multiple of 4W in the axpy form). */
static void gemm_small_range(const GemmArgs& g, i64 i0, i64 i1, i64 j0, i64 j1) {
  i64 i = i0;
  if (g.tb) {
    for (; i + 4 <= i1; i += 4) small_dot_rows<4>(g, i, j0, j1);
    for (; i < i1; ++i) small_dot_rows<1>(g, i, j0, j1);
    return;
  }
  const i64 step = 4 * W;
  for (; i + 4 <= i1; i += 4) {
    for (i64 j = j0; j < j1; j += step) small_axpy_block<4>(g, i, j);
  }
  for (; i < i1; ++i) {
    for (i64 j = j0; j < j1; j += step) small_axpy_block<1>(g, i, j);
  }
}

/** The unpacked GEMM: blocks of 16 rows x 256 columns over the pool when the product is large. */
static void gemm_small(Context& ctx, const GemmArgs& g) {
  constexpr i64 kRowsPerTask = 16, kColsPerTask = 256;  // 256 is a multiple of 4W for every W
  const i64 tm = (g.M + kRowsPerTask - 1) / kRowsPerTask;
  const i64 tn = (g.N + kColsPerTask - 1) / kColsPerTask;
  const bool parallel = ctx.threads() > 1 && 2.0 * double(g.M) * double(g.N) * double(g.K) >= kGemmParallelFlops;
  auto task = [&](int t, int) {
    const i64 bi = t / tn, bj = t % tn;
    const i64 i0 = bi * kRowsPerTask, j0 = bj * kColsPerTask;
    gemm_small_range(g, i0, i0 + kRowsPerTask < g.M ? i0 + kRowsPerTask : g.M, j0, j0 + kColsPerTask < g.N ? j0 + kColsPerTask : g.N);
  };
  parallel_for(ctx.pool, parallel, int(tm * tn), task);
}

/** The engine's GEMM: unpacked for small products, packed otherwise. */
template <class Isa>
static bool gemm_kernel(Context& ctx, const GemmArgs& g) {
  if (g.M > 0 && g.N > 0 && g.K > 0 && gemm_small_fits(g)) {
    gemm_small(ctx, g);
    return true;
  }
  return gemm_driver<Isa>(ctx, g, NoEpilogue(), false);
}
