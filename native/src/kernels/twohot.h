// Two-hot encoding of symlog values, its softmax decoding, and the soft cross-entropy between
// logits and a (two-hot) target: TD-MPC2's discrete regression for rewards and values. Encoding is
// scalar double code that mirrors the JS engine step for step; decoding and the cross-entropy run
// on vectors (they see R x 101 exps per call, many times per plan and update).

static inline double symlog1(double x) { return (x > 0 ? 1.0 : x < 0 ? -1.0 : x) * std::log1p(std::fabs(x)); }
static inline double symexp1(double x) { return (x > 0 ? 1.0 : x < 0 ? -1.0 : x) * std::expm1(std::fabs(x)); }

static void two_hot_encode(Context&, i64 n, i64 NB, double vmin, double vmax, const float* x, float* target) {
  if (NB == 1) {
    // tdmpc2 (num_bins == 1): the target is the plain symlog value, unclamped.
    for (i64 i = 0; i < n; ++i) target[i] = float(symlog1(x[i]));
    return;
  }
  const double width = (vmax - vmin) / double(NB - 1);
  for (i64 i = 0; i < n; ++i) {
    float* row = target + i * NB;
    const double s = symlog1(x[i]);
    // A NaN input gives a NaN row (so countNonFinite catches it), as in the JS engine.
    const float fill = std::isnan(s) ? __builtin_nanf("") : 0.0f;
    for (i64 k = 0; k < NB; ++k) row[k] = fill;
    if (std::isnan(s)) continue;
    const double t = (std::min(std::max(s, vmin), vmax) - vmin) / width;
    double idx = std::floor(t);
    if (idx < 0) idx = 0;
    if (idx >= double(NB - 1)) {
      row[NB - 1] = 1.0f;
      continue;
    }
    const double frac = t - idx;
    row[i64(idx)] = float(1.0 - frac);
    row[i64(idx) + 1] = float(frac);
  }
}

static void two_hot_decode(Context& ctx, i64 R, i64 NB, double vmin, double vmax, const float* logits, float* out) {
  if (NB == 1) {
    for (i64 r = 0; r < R; ++r) out[r] = float(symexp1(logits[r]));
    return;
  }
  const double width = (vmax - vmin) / double(NB - 1);
  for_rows(ctx, R, rows_per_chunk(NB), double(R) * double(NB), [&](i64 r0, i64 r1, int) {
    for (i64 r = r0; r < r1; ++r) {
      const float* l = logits + r * NB;
      const vf mx = vset1(row_max(l, NB));
      // Σ e_k and Σ e_k·k in float vectors; bin k = vmin + k·width is applied once per row below,
      // since Σ e_k (vmin + k w) = vmin Σ e_k + w Σ e_k k.
      vf z = vzero(), zk = vzero();
      alignas(64) float lane_index[W];
      for (int q = 0; q < W; ++q) lane_index[q] = float(q);
      vf kv = vload(lane_index);
      const vf step = vset1(float(W));
      i64 k = 0;
      for (; k + W <= NB; k += W) {
        const vf e = vexp(vsub(vload(l + k), mx));
        z = vadd(z, e);
        zk = vfma(e, kv, zk);
        kv = vadd(kv, step);
      }
      if (k < NB) {
        const vf e = vkeep_n(vexp(vsub(vload_n(l + k, NB - k, 0.0f), mx)), NB - k);
        z = vadd(z, e);
        zk = vfma(e, kv, zk);
      }
      const double zs = vsum(z), zks = vsum(zk);
      out[r] = float(symexp1((vmin * zs + width * zks) / zs));
    }
  });
}

static void soft_ce_forward(Context& ctx, i64 R, i64 NB, const float* logits, const float* target, float* loss) {
  for_rows(ctx, R, rows_per_chunk(NB), double(R) * double(NB), [&](i64 r0, i64 r1, int) {
    for (i64 r = r0; r < r1; ++r) {
      const float* l = logits + r * NB;
      const float* t = target + r * NB;
      // -Σ t_k (x_k - lse) = Σ t_k (lse - x_k), term by term (no cancellation of two large sums).
      const vf lse = vset1(row_log_sum_exp(l, NB));
      vf acc = vzero();
      i64 k = 0;
      for (; k + W <= NB; k += W) acc = vfma(vload(t + k), vsub(lse, vload(l + k)), acc);
      if (k < NB) acc = vfma(vload_n(t + k, NB - k, 0.0f), vsub(lse, vload_n(l + k, NB - k, 0.0f)), acc);
      loss[r] = vsum(acc);
    }
  });
}

static void soft_ce_backward(Context& ctx, i64 R, i64 NB, const float* logits, const float* target,
                             const float* dloss, float* dlogits) {
  for_rows(ctx, R, rows_per_chunk(NB), double(R) * double(NB), [&](i64 r0, i64 r1, int) {
    for (i64 r = r0; r < r1; ++r) {
      const float* l = logits + r * NB;
      const float* t = target + r * NB;
      float* dl = dlogits + r * NB;
      const vf lse = vset1(row_log_sum_exp(l, NB));
      vf ts = vzero();
      i64 k = 0;
      for (; k + W <= NB; k += W) ts = vadd(ts, vload(t + k));
      if (k < NB) ts = vadd(ts, vload_n(t + k, NB - k, 0.0f));
      const vf tsum = vset1(vsum(ts));
      const vf d = vset1(dloss[r]);
      // dlogits += dloss · (softmax · Σ t - t)
      for (k = 0; k + W <= NB; k += W) {
        const vf p = vexp(vsub(vload(l + k), lse));
        vstore(dl + k, vadd(vload(dl + k), vmul(d, vsub(vmul(p, tsum), vload(t + k)))));
      }
      if (k < NB) {
        const i64 q = NB - k;
        const vf p = vexp(vsub(vload_n(l + k, q, 0.0f), lse));
        const vf g = vmul(d, vsub(vmul(p, tsum), vload_n(t + k, q, 0.0f)));
        vstore_n(dl + k, vadd(vload_n(dl + k, q, 0.0f), g), q);
      }
    }
  });
}
