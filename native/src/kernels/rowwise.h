// Row-wise kernels: softmax, log-softmax and SimNorm (softmax over consecutive groups of G), plus
// the row helpers that NormedLinear and two-hot reuse. Rows (or groups) are independent, so they
// split over threads without changing any result. Vector tails are masked, and lanes past the end
// hold the identity of the reduction (-inf for max, 0 for sums).

static constexpr float kNegInf = -__builtin_inff();

/** max over x[0..D). */
static inline float row_max(const float* x, i64 D) {
  vf m = vset1(kNegInf);
  i64 j = 0;
  for (; j + W <= D; j += W) m = vmax(m, vload(x + j));
  if (j < D) m = vmax(m, vload_n(x + j, D - j, kNegInf));
  return vmaxr(m);
}

/** Returns Σ e^(x - shift) over D values and, when y is not null, stores the terms in y (may alias x). */
static inline float row_exp_sum(const float* x, float shift, float* y, i64 D) {
  const vf s = vset1(shift);
  vf acc = vzero();
  i64 j = 0;
  for (; j + W <= D; j += W) {
    const vf e = vexp(vsub(vload(x + j), s));
    if (y) vstore(y + j, e);
    acc = vadd(acc, e);
  }
  if (j < D) {
    const i64 k = D - j;
    const vf e = vkeep_n(vexp(vsub(vload_n(x + j, k, 0.0f), s)), k);
    if (y) vstore_n(y + j, e, k);
    acc = vadd(acc, e);
  }
  return vsum(acc);
}

/** y[0..D) *= a. */
static inline void row_scale(float* y, float a, i64 D) {
  const vf s = vset1(a);
  i64 j = 0;
  for (; j + W <= D; j += W) vstore(y + j, vmul(vload(y + j), s));
  if (j < D) vstore_n(y + j, vmul(vload_n(y + j, D - j, 0.0f), s), D - j);
}

/** y = softmax(x) over D values, max-shifted; y may alias x. */
static inline void row_softmax(const float* x, float* y, i64 D) {
  const float mx = row_max(x, D);
  const float z = row_exp_sum(x, mx, y, D);
  row_scale(y, 1.0f / z, D);
}

/** log Σ e^x over D values, max-shifted; -inf for an empty or all -inf row. */
static inline float row_log_sum_exp(const float* x, i64 D) {
  const float mx = row_max(x, D);
  if (mx == kNegInf) return kNegInf;
  return mx + std::log(row_exp_sum(x, mx, nullptr, D));
}

/** Σ a[j]·b[j] over D values. */
static inline float row_dot(const float* a, const float* b, i64 D) {
  vf acc = vzero();
  i64 j = 0;
  for (; j + W <= D; j += W) acc = vfma(vload(a + j), vload(b + j), acc);
  if (j < D) acc = vfma(vload_n(a + j, D - j, 0.0f), vload_n(b + j, D - j, 0.0f), acc);
  return vsum(acc);
}

/** dx[0..G) += y ⊙ (dy - Σ y·dy): softmax backward for one group. */
static inline void group_softmax_backward(const float* y, const float* dy, float* dx, i64 G) {
  const vf s = vset1(row_dot(y, dy, G));
  i64 j = 0;
  for (; j + W <= G; j += W) vstore(dx + j, vadd(vload(dx + j), vmul(vload(y + j), vsub(vload(dy + j), s))));
  if (j < G) {
    const i64 k = G - j;
    const vf d = vmul(vload_n(y + j, k, 0.0f), vsub(vload_n(dy + j, k, 0.0f), s));
    vstore_n(dx + j, vadd(vload_n(dx + j, k, 0.0f), d), k);
  }
}

/** True when groups of G never straddle a vector (G a power of two dividing W): segmented path. */
static inline bool groups_fit_vectors(i64 G) { return G <= W && (W % G) == 0; }

/**
 * SimNorm of n values (n a multiple of G): softmax over each group of G, y = e^(x - max)·(1/Σ).
 * y may alias x.
 */
static inline void simnorm_span(const float* x, float* y, i64 n, i64 G) {
  if (!groups_fit_vectors(G)) {
    for (i64 g0 = 0; g0 < n; g0 += G) row_softmax(x + g0, y + g0, G);
    return;
  }
  const vf one = vset1(1.0f);
  i64 j = 0;
  for (; j + W <= n; j += W) {
    const vf v = vload(x + j);
    const vf e = vexp(vsub(v, vseg_max(v, G)));
    vstore(y + j, vmul(e, vdiv(one, vseg_sum(e, G))));
  }
  if (j < n) {  // whole groups only: lanes past n form their own (discarded) groups
    const vf v = vload_n(x + j, n - j, 0.0f);
    const vf e = vexp(vsub(v, vseg_max(v, G)));
    vstore_n(y + j, vmul(e, vdiv(one, vseg_sum(e, G))), n - j);
  }
}

/**
 * SimNorm backward of n values: g = y ⊙ (dy - Σ_group y·dy); dx += g when accumulate, else dx = g.
 */
static inline void simnorm_backward_span(const float* y, const float* dy, float* dx, i64 n, i64 G, bool accumulate) {
  if (!groups_fit_vectors(G)) {
    for (i64 g0 = 0; g0 < n; g0 += G) {
      if (!accumulate) std::memset(dx + g0, 0, size_t(G) * sizeof(float));
      group_softmax_backward(y + g0, dy + g0, dx + g0, G);
    }
    return;
  }
  i64 j = 0;
  for (; j + W <= n; j += W) {
    const vf yv = vload(y + j), d = vload(dy + j);
    const vf g = vmul(yv, vsub(d, vseg_sum(vmul(yv, d), G)));
    vstore(dx + j, accumulate ? vadd(vload(dx + j), g) : g);
  }
  if (j < n) {
    const i64 k = n - j;
    const vf yv = vload_n(y + j, k, 0.0f), d = vload_n(dy + j, k, 0.0f);
    const vf g = vmul(yv, vsub(d, vseg_sum(vmul(yv, d), G)));
    vstore_n(dx + j, accumulate ? vadd(vload_n(dx + j, k, 0.0f), g) : g, k);
  }
}

static void simnorm_forward(Context& ctx, i64 R, i64 D, i64 G, const float* x, float* y) {
  for_rows(ctx, R, rows_per_chunk(D), double(R) * double(D), [&](i64 r0, i64 r1, int) {
    simnorm_span(x + r0 * D, y + r0 * D, (r1 - r0) * D, G);
  });
}

static void simnorm_backward(Context& ctx, i64 R, i64 D, i64 G, const float* y, const float* dy, float* dx) {
  for_rows(ctx, R, rows_per_chunk(D), double(R) * double(D), [&](i64 r0, i64 r1, int) {
    simnorm_backward_span(y + r0 * D, dy + r0 * D, dx + r0 * D, (r1 - r0) * D, G, true);
  });
}

static void softmax_forward(Context& ctx, i64 R, i64 D, const float* x, float* y) {
  for_rows(ctx, R, rows_per_chunk(D), double(R) * double(D), [&](i64 r0, i64 r1, int) {
    for (i64 r = r0; r < r1; ++r) row_softmax(x + r * D, y + r * D, D);
  });
}

static void log_softmax_forward(Context& ctx, i64 R, i64 D, const float* x, float* y) {
  for_rows(ctx, R, rows_per_chunk(D), double(R) * double(D), [&](i64 r0, i64 r1, int) {
    for (i64 r = r0; r < r1; ++r) {
      const float* xr = x + r * D;
      float* yr = y + r * D;
      const float lse = row_log_sum_exp(xr, D);
      const vf s = vset1(lse);
      i64 j = 0;
      for (; j + W <= D; j += W) vstore(yr + j, vsub(vload(xr + j), s));
      if (j < D) vstore_n(yr + j, vsub(vload_n(xr + j, D - j, 0.0f), s), D - j);
    }
  });
}
