// TD-MPC2's NormedLinear, fused: lin = (x·Wᵀ + b) ⊙ mask; y = LayerNorm(lin)·gamma + beta;
// out = act(y). The forward runs as the GEMM's row epilogue: as soon as a tile of rows is final
// (bias already added by the micro-kernel), each row is masked, normalized and activated while it
// is still in cache, instead of three more passes over [R,out].
//
// The backward is three phases: (1) per row, the activation and LayerNorm backward, producing
// scratch = d(x·Wᵀ + b) and per-row-block partial sums for dgamma, dbeta, db; (2) the partials
// added in block order (fixed blocks of rows, so the sums do not depend on the thread count);
// (3) two GEMMs, dW += scratchᵀ·x and dx += scratch·W.

constexpr float kLayerNormEps = 1e-5f;
constexpr i64 kNlRowBlock = 8;  // rows per backward task and per partial-sum block

// Row reductions with four accumulators: one accumulator is bound by the add latency (4 cycles
// per vector), and a LayerNorm row is only 8-32 vectors. The combination order is fixed, so the
// result does not depend on the thread that computes the row.

/** Σ x over D values. */
static inline float row_sum(const float* x, i64 D) {
  vf a0 = vzero(), a1 = vzero(), a2 = vzero(), a3 = vzero();
  i64 j = 0;
  for (; j + 4 * W <= D; j += 4 * W) {
    a0 = vadd(a0, vload(x + j));
    a1 = vadd(a1, vload(x + j + W));
    a2 = vadd(a2, vload(x + j + 2 * W));
    a3 = vadd(a3, vload(x + j + 3 * W));
  }
  for (; j + W <= D; j += W) a0 = vadd(a0, vload(x + j));
  if (j < D) a1 = vadd(a1, vload_n(x + j, D - j, 0.0f));
  return vsum(vadd(vadd(a0, a1), vadd(a2, a3)));
}

/** Σ (x - mu)² over D values. */
static inline float row_sq_dev(const float* x, float mu, i64 D) {
  const vf m = vset1(mu);
  vf a0 = vzero(), a1 = vzero(), a2 = vzero(), a3 = vzero();
  i64 j = 0;
  for (; j + 4 * W <= D; j += 4 * W) {
    const vf d0 = vsub(vload(x + j), m), d1 = vsub(vload(x + j + W), m);
    const vf d2 = vsub(vload(x + j + 2 * W), m), d3 = vsub(vload(x + j + 3 * W), m);
    a0 = vfma(d0, d0, a0);
    a1 = vfma(d1, d1, a1);
    a2 = vfma(d2, d2, a2);
    a3 = vfma(d3, d3, a3);
  }
  for (; j + W <= D; j += W) {
    const vf d = vsub(vload(x + j), m);
    a0 = vfma(d, d, a0);
  }
  if (j < D) {
    const vf d = vkeep_n(vsub(vload_n(x + j, D - j, 0.0f), m), D - j);
    a1 = vfma(d, d, a1);
  }
  return vsum(vadd(vadd(a0, a1), vadd(a2, a3)));
}

/** One row of the forward epilogue; lin row holds x·Wᵀ + b on entry. */
static inline void nl_forward_row(const NormedLinearArgs& a, i64 r) {
  const i64 D = a.out;
  float* l = a.lin + r * D;
  float* y = a.y + r * D;
  if (a.mask) {
    const float* mk = a.mask + r * D;
    i64 j = 0;
    for (; j + W <= D; j += W) vstore(l + j, vmul(vload(l + j), vload(mk + j)));
    if (j < D) vstore_n(l + j, vmul(vload_n(l + j, D - j, 0.0f), vload_n(mk + j, D - j, 0.0f)), D - j);
  }
  // Statistics of the stored lin (what the backward reads), two-pass for stability. An empty row
  // gives mean 0 and rstd 1/sqrt(eps), the JS engine's choice.
  const float invD = D > 0 ? 1.0f / float(D) : 0.0f;
  float mu = row_sum(l, D) * invD;
  const float sq = row_sq_dev(l, mu, D);
  float rs = 1.0f / std::sqrt(sq * invD + kLayerNormEps);
  if (!std::isfinite(mu) || !std::isfinite(sq)) {
    // |lin| beyond ~1e18: the float sums overflow (rstd would be 0 and the row silently beta).
    // Redo this row's statistics in double, as the JS engine computes them; Inf/NaN in lin stay.
    double sum = 0.0, dev = 0.0;
    for (i64 j = 0; j < D; ++j) sum += double(l[j]);
    const double md = sum / double(D);
    for (i64 j = 0; j < D; ++j) dev += (double(l[j]) - md) * (double(l[j]) - md);
    mu = float(md);
    rs = float(1.0 / std::sqrt(dev / double(D) + double(kLayerNormEps)));
  }
  a.mean[r] = mu;
  a.rstd[r] = rs;
  const vf m = vset1(mu), s = vset1(rs);
  const bool mish = a.act == 1;
  i64 j = 0;
  for (; j + W <= D; j += W) {
    vf v = vadd(vmul(vmul(vsub(vload(l + j), m), s), vload(a.gamma + j)), vload(a.beta + j));
    if (mish) v = vmish(v);
    vstore(y + j, v);
  }
  if (j < D) {
    const i64 k = D - j;
    vf v = vadd(vmul(vmul(vsub(vload_n(l + j, k, 0.0f), m), s), vload_n(a.gamma + j, k, 0.0f)),
                vload_n(a.beta + j, k, 0.0f));
    if (mish) v = vmish(v);
    vstore_n(y + j, v, k);
  }
  if (a.act == 2) simnorm_span(y, y, D, a.group);
}

template <class Isa>
static bool normed_linear_forward(Context& ctx, const NormedLinearArgs& a) {
  auto epi = [&](i64 r0, i64 r1, int) {
    for (i64 r = r0; r < r1; ++r) nl_forward_row(a, r);
  };
  const GemmArgs g{false, true, a.R, a.out, a.in, a.x, a.W, a.lin, a.b, false};
  if (a.R > 0 && a.out > 0 && a.in > 0 && gemm_small_fits(g)) {
    // Few rows (an actor's batch): the unpacked GEMM, then the row epilogue.
    gemm_small(ctx, g);
    for_rows(ctx, a.R, 16, double(a.R) * double(a.out) * 8, epi);
    return true;
  }
  return gemm_driver<Isa>(ctx, g, epi, true);
}

/**
 * Backward of one row: norm and dy into the thread's row scratch, scratch row = d(x·Wᵀ + b), and
 * the row's contributions added to the block partials pg (dgamma), pb (dbeta), pd (db), each [D].
 */
static inline void nl_backward_row(const NormedLinearArgs& a, i64 r, float* norm, float* dy,
                                   float* pg, float* pb, float* pd) {
  const i64 D = a.out;
  const float* l = a.lin + r * D;
  const float* go = a.dy + r * D;  // dout
  const float* o = a.y + r * D;    // forward output
  const vf m = vset1(a.mean[r]), s = vset1(a.rstd[r]);
  // norm = (lin - mean)·rstd; dy = dout through the activation.
  i64 j = 0;
  for (; j + W <= D; j += W) {
    const vf nv = vmul(vsub(vload(l + j), m), s);
    vstore(norm + j, nv);
    vf d = vload(go + j);
    if (a.act == 1) d = vmul(d, vmish_grad(vadd(vmul(nv, vload(a.gamma + j)), vload(a.beta + j))));
    vstore(dy + j, d);
  }
  if (j < D) {
    const i64 k = D - j;
    const vf nv = vmul(vsub(vload_n(l + j, k, 0.0f), m), s);
    vstore_n(norm + j, nv, k);
    vf d = vload_n(go + j, k, 0.0f);
    if (a.act == 1) {
      d = vmul(d, vmish_grad(vadd(vmul(nv, vload_n(a.gamma + j, k, 0.0f)), vload_n(a.beta + j, k, 0.0f))));
    }
    vstore_n(dy + j, d, k);
  }
  if (a.act == 2) simnorm_backward_span(o, go, dy, D, a.group, false);  // dy = out ⊙ (dout - Σ out·dout)
  // LayerNorm backward (llm.c layernorm_backward): dnorm = dy·gamma,
  // dlin = rstd·(dnorm - mean(dnorm) - norm·mean(dnorm·norm)).
  vf sd = vzero(), sdn = vzero();
  for (j = 0; j + W <= D; j += W) {
    const vf d = vload(dy + j), nv = vload(norm + j);
    vstore(pg + j, vadd(vload(pg + j), vmul(d, nv)));
    vstore(pb + j, vadd(vload(pb + j), d));
    const vf dn = vmul(d, vload(a.gamma + j));
    sd = vadd(sd, dn);
    sdn = vadd(sdn, vmul(dn, nv));
  }
  if (j < D) {
    const i64 k = D - j;
    const vf d = vload_n(dy + j, k, 0.0f), nv = vload_n(norm + j, k, 0.0f);
    vstore_n(pg + j, vadd(vload_n(pg + j, k, 0.0f), vmul(d, nv)), k);
    vstore_n(pb + j, vadd(vload_n(pb + j, k, 0.0f), d), k);
    const vf dn = vmul(d, vload_n(a.gamma + j, k, 0.0f));
    sd = vadd(sd, dn);
    sdn = vadd(sdn, vmul(dn, nv));
  }
  const float invD = 1.0f / float(D);
  const vf mean_d = vset1(vsum(sd) * invD), mean_dn = vset1(vsum(sdn) * invD);
  float* sc = a.scratch + r * D;
  const float* mk = a.mask ? a.mask + r * D : nullptr;
  for (j = 0; j + W <= D; j += W) {
    vf d = vmul(s, vsub(vsub(vmul(vload(dy + j), vload(a.gamma + j)), mean_d), vmul(vload(norm + j), mean_dn)));
    if (mk) d = vmul(d, vload(mk + j));
    vstore(sc + j, d);
    vstore(pd + j, vadd(vload(pd + j), d));
  }
  if (j < D) {
    const i64 k = D - j;
    vf d = vmul(s, vsub(vsub(vmul(vload_n(dy + j, k, 0.0f), vload_n(a.gamma + j, k, 0.0f)), mean_d),
                        vmul(vload_n(norm + j, k, 0.0f), mean_dn)));
    if (mk) d = vmul(d, vload_n(mk + j, k, 0.0f));
    vstore_n(sc + j, d, k);
    vstore_n(pd + j, vadd(vload_n(pd + j, k, 0.0f), d), k);
  }
}

template <class Isa>
static bool normed_linear_backward(Context& ctx, const NormedLinearArgs& a) {
  const i64 R = a.R, D = a.out;
  if (R == 0 || D == 0) return true;  // every gradient term is an empty sum
  const i64 blocks = (R + kNlRowBlock - 1) / kNlRowBlock;
  if (!ctx.partials.reserve(size_t(blocks * 3 * D))) return false;
  for (int t = 0; t < ctx.threads(); ++t) {
    if (!ctx.rows[t]->reserve(size_t(2 * D))) return false;
  }
  float* const part = ctx.partials.data();
  auto phase1 = [&](int b, int thread) {
    float* pg = part + b * 3 * D;
    std::memset(pg, 0, size_t(3 * D) * sizeof(float));
    float* norm = ctx.rows[thread]->data();
    const i64 r1 = (b + 1) * kNlRowBlock < R ? (b + 1) * kNlRowBlock : R;
    for (i64 r = b * kNlRowBlock; r < r1; ++r) nl_backward_row(a, r, norm, norm + D, pg, pg + D, pg + 2 * D);
  };
  parallel_for(ctx.pool, ctx.threads() > 1 && double(R) * double(D) >= 16384.0, int(blocks), phase1);
  for (i64 j = 0; j < D; ++j) {
    float sg = 0.0f, sb = 0.0f, sd = 0.0f;
    for (i64 b = 0; b < blocks; ++b) {
      const float* p = part + b * 3 * D;
      sg += p[j];
      sb += p[D + j];
      sd += p[2 * D + j];
    }
    a.dgamma[j] += sg;
    a.dbeta[j] += sb;
    a.db[j] += sd;
  }
  // dW [out,in] += scratchᵀ [out,R] · x [R,in];  dx [R,in] += scratch [R,out] · W [out,in]
  const GemmArgs gw{true, false, D, a.in, R, a.scratch, a.x, a.dW, nullptr, true};
  if (!gemm_kernel<Isa>(ctx, gw)) return false;
  if (a.dx) {
    const GemmArgs gx{false, false, R, a.in, D, a.scratch, a.W, a.dx, nullptr, true};
    if (!gemm_kernel<Isa>(ctx, gx)) return false;
  }
  return true;
}
