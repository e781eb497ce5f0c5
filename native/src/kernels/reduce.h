// Reductions and data movement. Sums accumulate in double over fixed blocks (their boundaries
// depend only on n) that are then added in block order, so the result does not depend on the
// thread count. The simple linear ops compute in double and round once, like the JS engine, which
// makes them bit-identical to it.

constexpr i64 kMaxBlocks = 1024;

/** Block length for an n-element reduction: at least kChunk, at most kMaxBlocks blocks. */
static inline i64 reduce_block(i64 n) {
  i64 b = (n + kMaxBlocks - 1) / kMaxBlocks;
  b = (b + 63) / 64 * 64;
  return b < kChunk ? kChunk : b;
}

/** Σ f(x[i]) in double: 8 interleaved partial sums per block (vectorizable), then blocks in order. */
template <class F>
static double block_sum(Context& ctx, i64 n, const float* x, F f) {
  if (n <= 0) return 0.0;
  const i64 bl = reduce_block(n);
  const i64 blocks = (n + bl - 1) / bl;
  double part[kMaxBlocks];
  auto task = [&](int t, int) {
    const i64 i0 = t * bl, i1 = i0 + bl < n ? i0 + bl : n;
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    i64 i = i0;
    for (; i + 8 <= i1; i += 8) {
      for (int l = 0; l < 8; ++l) acc[l] += f(double(x[i + l]));
    }
    for (int l = 0; i + l < i1; ++l) acc[l] += f(double(x[i + l]));
    part[t] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  };
  parallel_for(ctx.pool, ctx.threads() > 1 && n >= kParallelElems, int(blocks), task);
  double s = 0.0;
  for (i64 b = 0; b < blocks; ++b) s += part[b];
  return s;
}

static double sum_kernel(Context& ctx, i64 n, const float* x) {
  return block_sum(ctx, n, x, [](double v) { return v; });
}

static double sum_squares_kernel(Context& ctx, i64 n, const float* x) {
  return block_sum(ctx, n, x, [](double v) { return v * v; });
}

static inline bool is_finite_bits(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  return (u & 0x7f800000u) != 0x7f800000u;
}

template <bool kZero>
static i64 nonfinite_kernel(Context& ctx, i64 n, float* x) {
  if (n <= 0) return 0;
  const i64 bl = reduce_block(n);
  const i64 blocks = (n + bl - 1) / bl;
  i64 part[kMaxBlocks];
  auto task = [&](int t, int) {
    const i64 i0 = t * bl, i1 = i0 + bl < n ? i0 + bl : n;
    i64 c = 0;
    for (i64 i = i0; i < i1; ++i) {
      const bool bad = !is_finite_bits(x[i]);
      c += bad;
      if (kZero && bad) x[i] = 0.0f;
    }
    part[t] = c;
  };
  parallel_for(ctx.pool, ctx.threads() > 1 && n >= kParallelElems, int(blocks), task);
  i64 s = 0;
  for (i64 b = 0; b < blocks; ++b) s += part[b];
  return s;
}

static i64 count_nonfinite_kernel(Context& ctx, i64 n, const float* x) {
  return nonfinite_kernel<false>(ctx, n, const_cast<float*>(x));
}

static i64 zero_nonfinite_kernel(Context& ctx, i64 n, float* x) { return nonfinite_kernel<true>(ctx, n, x); }

/** out [D] (+)= Σ_r x[r, :]: columns split over threads, each column summed over rows in order. */
static bool sum_rows_kernel(Context& ctx, i64 R, i64 D, const float* x, float* out, bool accumulate) {
  constexpr i64 kCols = 256;
  auto task = [&](int t, int) {
    const i64 j0 = t * kCols, j1 = j0 + kCols < D ? j0 + kCols : D;
    double acc[kCols];
    for (i64 j = j0; j < j1; ++j) acc[j - j0] = 0.0;
    for (i64 r = 0; r < R; ++r) {
      const float* row = x + r * D;
      for (i64 j = j0; j < j1; ++j) acc[j - j0] += double(row[j]);
    }
    for (i64 j = j0; j < j1; ++j) out[j] = float(accumulate ? double(out[j]) + acc[j - j0] : acc[j - j0]);
  };
  parallel_for(ctx.pool, ctx.threads() > 1 && double(R) * double(D) >= double(kParallelElems) && D > kCols,
               int((D + kCols - 1) / kCols), task);
  return true;
}

static void copy_kernel(Context& ctx, i64 n, const float* src, float* dst) {
  for_chunks(ctx, n, [&](i64 i0, i64 i1) { std::memcpy(dst + i0, src + i0, size_t(i1 - i0) * sizeof(float)); });
}

static void fill_kernel(Context& ctx, i64 n, float value, float* dst) {
  for_chunks(ctx, n, [&](i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; ++i) dst[i] = value;
  });
}

static void axpy_kernel(Context& ctx, i64 n, double a, const float* x, float* y) {
  for_chunks(ctx, n, [&](i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; ++i) y[i] = float(double(y[i]) + a * double(x[i]));
  });
}

static void mul_kernel(Context& ctx, i64 n, const float* a, const float* b, float* out) {
  for_chunks(ctx, n, [&](i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; ++i) out[i] = a[i] * b[i];
  });
}

static void scale_kernel(Context& ctx, i64 n, double a, float* x) {
  for_chunks(ctx, n, [&](i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; ++i) x[i] = float(double(x[i]) * a);
  });
}

static void concat_columns_kernel(Context& ctx, i64 R, i64 D1, i64 D2, const float* a, const float* b, float* out) {
  const i64 D = D1 + D2;
  for_rows(ctx, R, rows_per_chunk(D), double(R) * double(D), [&](i64 r0, i64 r1, int) {
    for (i64 r = r0; r < r1; ++r) {
      std::memcpy(out + r * D, a + r * D1, size_t(D1) * sizeof(float));
      std::memcpy(out + r * D + D1, b + r * D2, size_t(D2) * sizeof(float));
    }
  });
}

static void split_columns_backward_kernel(Context& ctx, i64 R, i64 D1, i64 D2, const float* dout, float* da, float* db) {
  const i64 D = D1 + D2;
  for_rows(ctx, R, rows_per_chunk(D), double(R) * double(D), [&](i64 r0, i64 r1, int) {
    for (i64 r = r0; r < r1; ++r) {
      const float* g = dout + r * D;
      if (da) {
        float* o = da + r * D1;
        for (i64 j = 0; j < D1; ++j) o[j] = o[j] + g[j];
      }
      if (db) {
        float* o = db + r * D2;
        for (i64 j = 0; j < D2; ++j) o[j] = o[j] + g[D1 + j];
      }
    }
  });
}
