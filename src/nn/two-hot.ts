// Scalar helpers for the distributional reward/value heads (tdmpc2 common/math.py), for host code
// (targets, logging, tests). Batched versions are engine kernels (twoHotEncode, twoHotDecode,
// softCrossEntropy*), which these mirror exactly:
//   bins: NB values spanning [vmin, vmax] in symlog space, width (vmax - vmin)/(NB - 1).
//   two-hot(x): symlog(x) clamped to [vmin, vmax], its weight split linearly between the two
//   neighbouring bins. decode(logits) = symexp(Σ_k softmax(logits)_k · bin_k).
import type { F32 } from '../engine/engine.js';

export function symlog(x: number): number {
  return Math.sign(x) * Math.log1p(Math.abs(x));
}

export function symexp(x: number): number {
  return Math.sign(x) * Math.expm1(Math.abs(x));
}

/** Value of bin k. */
export function binValue(k: number, NB: number, vmin: number, vmax: number): number {
  return vmin + (k * (vmax - vmin)) / (NB - 1);
}

/** target [NB] at off = two-hot(symlog(x)) (overwrites). */
export function twoHot(x: number, NB: number, vmin: number, vmax: number, target: F32, off: number): void {
  for (let k = 0; k < NB; k++) target[off + k] = 0;
  const width = (vmax - vmin) / (NB - 1);
  const s = Math.min(vmax, Math.max(vmin, symlog(x)));
  const pos = (s - vmin) / width;
  const lo = Math.min(NB - 1, Math.floor(pos));
  const frac = pos - lo;
  target[off + lo] += 1 - frac;
  if (frac > 0) target[off + lo + 1] += frac;
}

/** The scalar decoded from logits [NB] at off: symexp of the softmax-weighted mean bin. */
export function twoHotInv(logits: ArrayLike<number>, off: number, NB: number, vmin: number, vmax: number): number {
  let mx = -Infinity;
  for (let k = 0; k < NB; k++) mx = Math.max(mx, logits[off + k]);
  let z = 0;
  let acc = 0;
  for (let k = 0; k < NB; k++) {
    const p = Math.exp(logits[off + k] - mx);
    z += p;
    acc += p * binValue(k, NB, vmin, vmax);
  }
  return symexp(acc / z);
}
