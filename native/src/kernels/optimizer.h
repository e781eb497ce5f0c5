// Adam/AdamW and Polyak averaging over flat parameter segments (llm.c's gpt2_update: params,
// grads and both moments share one layout, so the update is one loop). Computed in double in the
// JS engine's exact operation order, rounding once per stored value (m and v are float32 state, as
// in PyTorch, and the update reads them back after rounding), so the backends agree bit for bit
// when given the same bias corrections; the binding passes in 1 - β^step computed by the caller.

static void adam_kernel(Context& ctx, const AdamArgs& a) {
  const double lr = a.lr, b1 = a.beta1, b2 = a.beta2, eps = a.eps, wd = a.weight_decay, gs = a.grad_scale;
  const double bc1 = a.bias_correction1, bc2 = a.bias_correction2;
  for_chunks(ctx, a.n, [&](i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; ++i) {
      double p = a.params[i];
      double g = double(a.grads[i]) * gs;
      if (a.decoupled) p -= lr * wd * p;
      else g += wd * p;
      const float m = float(b1 * double(a.m[i]) + (1 - b1) * g);
      const float v = float(b2 * double(a.v[i]) + (1 - b2) * g * g);
      a.m[i] = m;
      a.v[i] = v;
      const double m_hat = double(m) / bc1;
      const double v_hat = double(v) / bc2;
      a.params[i] = float(p - lr * m_hat / (std::sqrt(v_hat) + eps));
    }
  });
}

static void polyak_kernel(Context& ctx, i64 n, double tau, const float* source, float* target) {
  for_chunks(ctx, n, [&](i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; ++i) {
      const double t = target[i];
      target[i] = float(t + tau * (double(source[i]) - t));
    }
  });
}
