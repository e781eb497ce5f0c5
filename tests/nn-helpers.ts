// Shared helpers for the nn-/model- tests: float64 arrays, llm.c's fake loss Σ out·dout, and central
// finite differences checked entry by entry.
import { expect } from 'vitest';
import type { F32 } from '../src/engine/engine.js';
import { normalAt, uniformAt } from '../src/engine/rng.js';

export function f64(n: number): F32 {
  return new Float64Array(n) as unknown as F32;
}

/** Deterministic N(0, std²) values from the counter RNG (host side). */
export function randn(n: number, seed: number, std = 1, dtype: 'f64' | 'f32' = 'f64'): F32 {
  const a = dtype === 'f64' ? f64(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = std * normalAt(seed, i);
  return a;
}

export function randu(n: number, seed: number, lo: number, hi: number): F32 {
  const a = f64(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * uniformAt(seed, i);
  return a;
}

export function dot(n: number, a: ArrayLike<number>, aOff: number, b: ArrayLike<number>, bOff: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
  return s;
}

/** k distinct indices in [0, n) (all of them when k >= n), deterministic in seed. */
export function sampleIndices(n: number, k: number, seed: number): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  const set = new Set<number>();
  let c = 0;
  while (set.size < k) set.add(Math.min(n - 1, Math.floor(uniformAt(seed, c++) * n)));
  return [...set].sort((a, b) => a - b);
}

export interface FdResult {
  checked: number;
  maxAbs: number;
  maxRel: number;
}

/**
 * For each index i of `x`: numerical dL/dx[i] by central differences of `loss` vs analytic[i].
 * Passes when |num - ana| <= tol · max(1, |num|, |ana|).
 */
export function checkFd(
  label: string, x: F32, indices: number[], analytic: ArrayLike<number>, loss: () => number, h = 1e-6, tol = 1e-6,
): FdResult {
  let maxAbs = 0;
  let maxRel = 0;
  const bad: string[] = [];
  for (const i of indices) {
    const orig = x[i];
    x[i] = orig + h;
    const lp = loss();
    x[i] = orig - h;
    const lm = loss();
    x[i] = orig;
    const num = (lp - lm) / (2 * h);
    const ana = analytic[i];
    const abs = Math.abs(num - ana);
    const rel = abs / Math.max(1, Math.abs(num), Math.abs(ana));
    maxAbs = Math.max(maxAbs, abs);
    maxRel = Math.max(maxRel, rel);
    if (rel > tol && bad.length < 8) bad.push(`[${i}] numeric ${num} analytic ${ana}`);
  }
  expect(bad, `${label}: gradient mismatches (max rel ${maxRel})`).toEqual([]);
  return { checked: indices.length, maxAbs, maxRel };
}
