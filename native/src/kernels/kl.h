// Element-wise KL divergence between diagonal Gaussians given means and log-stds (BMPC's policy
// loss against the planner's expert distribution). Computed in double with the JS engine's exact
// formulas: one exp of the log-std difference, so equal large log-stds do not overflow.
//   KL = ls2 - ls1 + (e^{2 ls1} + (mu1 - mu2)²) / (2 e^{2 ls2}) - 1/2

static void kl_forward(Context& ctx, i64 n, const float* mu1, const float* ls1, const float* mu2, const float* ls2,
                       float* out) {
  for_chunks(ctx, n, [&](i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; ++i) {
      const double a = ls1[i], c = ls2[i];
      const double dm = double(mu1[i]) - double(mu2[i]);
      out[i] = float(c - a + 0.5 * std::exp(2 * (a - c)) + 0.5 * dm * dm * std::exp(-2 * c) - 0.5);
    }
  });
}

static void kl_backward(Context& ctx, i64 n, const float* mu1, const float* ls1, const float* mu2, const float* ls2,
                        const float* dout, float* dmu1, float* dls1, float* dmu2, float* dls2) {
  for_chunks(ctx, n, [&](i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; ++i) {
      const double a = ls1[i], c = ls2[i];
      const double dm = double(mu1[i]) - double(mu2[i]);
      const double g = dout[i];
      const double inv_var2 = std::exp(-2 * c);    // 1 / σ2²
      const double ratio = std::exp(2 * (a - c));  // σ1² / σ2²
      // ∂KL/∂mu1 = dm/σ2², ∂/∂mu2 = -dm/σ2², ∂/∂ls1 = ratio - 1, ∂/∂ls2 = 1 - ratio - dm²/σ2²
      if (dmu1) dmu1[i] = float(double(dmu1[i]) + g * dm * inv_var2);
      if (dmu2) dmu2[i] = float(double(dmu2[i]) - g * dm * inv_var2);
      if (dls1) dls1[i] = float(double(dls1[i]) + g * (ratio - 1));
      if (dls2) dls2[i] = float(double(dls2[i]) + g * (1 - ratio - dm * dm * inv_var2));
    }
  });
}
