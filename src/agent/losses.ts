// World-model loss terms (seed 000 sections 3-4), each a forward that returns the scalar and a
// backward that ACCUMULATES the gradient w.r.t. its input (the caller zeroes). Pure functions over
// engine buffers: the update (update.ts) wires them to the model.
//
// Temporal weighting (one rule for every term, `rhoWeights`):
//   rho_normalize = true  (BMPC):    w_t = rho^t / Σ_s rho^s                 L = Σ_t w_t · ℓ_t
//   rho_normalize = false (TD-MPC2): w_t = rho^t / T                          L = mean_t rho^t · ℓ_t
// where ℓ_t is the batch mean of the per-row loss at step t and T the number of steps. TD-MPC2's
// `consistency_loss *= 1/horizon` (and the torch anchor's `20 * cons / H`) is exactly the 1/T here,
// so total = consistency_coef·L_c + reward_coef·L_r + value_coef·L_v (+ termination_coef·L_d) with no
// further factor. The value term is additionally averaged over the ensemble heads (tdmpc2 divides by
// num_q; bmpc-jax takes the mean over heads).
//
// Dims: R rows (= B per step), Z latent, NB bins.
import type { Engine, F32 } from '../engine/engine.js';

/** w [T] (float64): rho^t normalized to sum 1, or rho^t / T (see the header). */
export function rhoWeights(rho: number, T: number, normalize: boolean, out = new Float64Array(T)): Float64Array {
  let sum = 0;
  for (let t = 0; t < T; t++) {
    out[t] = Math.pow(rho, t);
    sum += out[t];
  }
  const div = normalize ? sum : T;
  for (let t = 0; t < T; t++) out[t] /= div;
  return out;
}

// ------------------------------------------------------------------ consistency (latent MSE)

/**
 * weight · mean over R·Z of (pred - target)² ; diff [R,Z] receives pred - target (saved for backward).
 *   pred [R,Z], target [R,Z] (treated as constant: stop-gradient), diff [R,Z]
 */
export function consistencyForward(
  e: Engine, R: number, Z: number, weight: number, pred: F32, predOff: number, target: F32, targetOff: number,
  diff: F32, diffOff: number,
): number {
  const n = R * Z;
  e.copy(n, pred, predOff, diff, diffOff);
  e.axpy(n, -1, target, targetOff, diff, diffOff);
  return (weight * e.sumSquares(n, diff, diffOff)) / n;
}

/** dpred [R,Z] += dloss · weight · 2 (pred - target) / (R·Z), from the diff saved by the forward. */
export function consistencyBackward(
  e: Engine, R: number, Z: number, weight: number, dloss: number, diff: F32, diffOff: number, dpred: F32, dpredOff: number,
): void {
  const n = R * Z;
  e.axpy(n, (dloss * weight * 2) / n, diff, diffOff, dpred, dpredOff);
}

// ------------------------------------------------------------------ soft cross-entropy (two-hot)

/**
 * Σ_r coef[r] · CE(logits_r, target_r) where CE = -Σ_k target_k log_softmax(logits)_k.
 * rowLoss [R] receives the per-row CE (for logging and the backward).
 *   logits [R,NB], target [R,NB] (two-hot rows), coef [R] (the row's weight: w_t / (B·heads))
 */
export function softCeForward(
  e: Engine, R: number, NB: number, logits: F32, logitsOff: number, target: F32, targetOff: number,
  coef: F32, coefOff: number, rowLoss: F32, rowLossOff: number,
): number {
  e.softCrossEntropyForward(R, NB, logits, logitsOff, target, targetOff, rowLoss, rowLossOff);
  let s = 0;
  for (let r = 0; r < R; r++) s += coef[coefOff + r] * rowLoss[rowLossOff + r];
  return s;
}

/** dlogits [R,NB] += coef[r] · (softmax(logits_r) - target_r) (two-hot rows sum to 1; fold loss coefficients into coef). */
export function softCeBackward(
  e: Engine, R: number, NB: number, logits: F32, logitsOff: number, target: F32, targetOff: number,
  coef: F32, coefOff: number, dlogits: F32, dlogitsOff: number,
): void {
  e.softCrossEntropyBackward(R, NB, logits, logitsOff, target, targetOff, coef, coefOff, dlogits, dlogitsOff);
}

// ------------------------------------------------------------------ termination (BCE with logits)

/**
 * mean over R of BCE(sigmoid(logit_r), y_r) = softplus(x) - y·x (stable form of tdmpc2's
 * F.binary_cross_entropy on the sigmoid output).  logit [R], y [R] in {0, 1}.
 */
export function bceLogitsForward(R: number, logit: F32, logitOff: number, y: F32, yOff: number): number {
  let s = 0;
  for (let r = 0; r < R; r++) {
    const x = logit[logitOff + r];
    const sp = x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
    s += sp - y[yOff + r] * x;
  }
  return s / R;
}

/** dlogit [R] += dloss · (sigmoid(x) - y) / R. */
export function bceLogitsBackward(R: number, dloss: number, logit: F32, logitOff: number, y: F32, yOff: number, dlogit: F32, dlogitOff: number): void {
  const c = dloss / R;
  for (let r = 0; r < R; r++) {
    const x = logit[logitOff + r];
    const sg = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    dlogit[dlogitOff + r] += c * (sg - y[yOff + r]);
  }
}

// ------------------------------------------------------------------ TD target assembly

/**
 * y[i] = r[i] + discount · (1 - term[i]) · v[i] for n rows (1-step TD target; v is the bootstrap:
 * mean over the EMA ensemble heads, already decoded to a scalar). term may be null (never ends).
 */
export function tdTarget(
  n: number, discount: number, r: F32, rOff: number, v: F32, vOff: number, term: F32 | null, termOff: number,
  y: F32, yOff: number,
): void {
  for (let i = 0; i < n; i++) {
    const notDone = term ? 1 - term[termOff + i] : 1;
    y[yOff + i] = r[rOff + i] + discount * notDone * v[vOff + i];
  }
}

// ------------------------------------------------------------------ decoded two-hot scalar (backward)

/**
 * dlogits [R,NB] += scale · dout[r] · ∂y_r/∂logits_r for y = symexp(m), m = Σ_k softmax(logits)_k·bin_k
 * (the engine's twoHotDecode): ∂y/∂logit_k = e^{|m|} · p_k · (bin_k - m). Used where a loss
 * differentiates through a decoded value (max_q's Q(z, π(z))). NB >= 2.
 */
export function twoHotDecodeBackward(
  R: number, NB: number, vmin: number, vmax: number, logits: F32, logitsOff: number,
  dout: ArrayLike<number>, doutOff: number, scale: number, dlogits: F32, dlogitsOff: number,
): void {
  const width = (vmax - vmin) / (NB - 1);
  for (let r = 0; r < R; r++) {
    const g = scale * dout[doutOff + r];
    if (g === 0) continue;
    const row = logitsOff + r * NB;
    let mx = -Infinity;
    for (let k = 0; k < NB; k++) mx = Math.max(mx, logits[row + k]);
    let z = 0;
    let acc = 0;
    for (let k = 0; k < NB; k++) {
      const p = Math.exp(logits[row + k] - mx);
      z += p;
      acc += p * (vmin + k * width);
    }
    const m = acc / z;
    const c = (g * Math.exp(Math.abs(m))) / z;
    const drow = dlogitsOff + r * NB;
    for (let k = 0; k < NB; k++) dlogits[drow + k] += c * Math.exp(logits[row + k] - mx) * (vmin + k * width - m);
  }
}
