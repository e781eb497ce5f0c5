// Policy head math in both parameterizations: forward properties and backward vs finite differences
// (float64), each output's gradient separately and all together.
import { describe, expect, it } from 'vitest';
import { ParamStore } from '../src/nn/params.js';
import { PolicyHead, type PolicyHeadGrads } from '../src/model/policy-head.js';
import { checkFd, dot, f64, randn } from './nn-helpers.js';

const store = new ParamStore({ dtype: 'float64' });
const R = 5;
const A = 3;

describe.each(['tdmpc2', 'bmpc'] as const)('policy head (%s)', (form) => {
  const [lo, hi] = form === 'bmpc' ? [-5, 1] : [-10, 2];
  const head = new PolicyHead(form, A, lo, hi);

  it('maps raw outputs into the documented ranges', () => {
    const ctx = head.createContext(store, R);
    const raw = randn(R * 2 * A, 1, 3);
    const eps = randn(R * A, 2);
    head.forward(ctx, R, raw, 0, eps, 0);
    for (let r = 0; r < R; r++) {
      let lp = 0;
      for (let j = 0; j < A; j++) {
        const i = r * A + j;
        expect(ctx.mean[i]).toBeCloseTo(Math.tanh(raw[r * 2 * A + j]), 14);
        expect(ctx.logStd[i]).toBeGreaterThanOrEqual(lo);
        expect(ctx.logStd[i]).toBeLessThanOrEqual(hi);
        expect(Math.abs(ctx.action[i])).toBeLessThanOrEqual(1);
        const std = Math.exp(ctx.logStd[i]);
        const a = form === 'tdmpc2'
          ? Math.tanh(raw[r * 2 * A + j] + eps[i] * std)
          : Math.min(1, Math.max(-1, ctx.mean[i] + eps[i] * std));
        expect(ctx.action[i]).toBeCloseTo(a, 14);
        lp += -0.5 * eps[i] ** 2 - ctx.logStd[i] - 0.5 * Math.log(2 * Math.PI);
        if (form === 'tdmpc2') lp -= Math.log(Math.max(0, 1 - a * a) + 1e-6);
      }
      expect(ctx.logProb[r]).toBeCloseTo(lp, 10);
      expect(ctx.entropy[r]).toBe(-ctx.logProb[r]);
      // TD-MPC2's log_pi: gaussian_logprob(eps, log_std, size=A) = (Σ residual - log(2π)/2) · A, then squash.
      let residual = 0;
      let squashTerm = 0;
      for (let j = 0; j < A; j++) {
        const i = r * A + j;
        residual += -0.5 * eps[i] ** 2 - ctx.logStd[i];
        if (form === 'tdmpc2') squashTerm -= Math.log(Math.max(0, 1 - ctx.action[i] ** 2) + 1e-6);
      }
      expect(ctx.scaledLogProb[r]).toBeCloseTo((residual - 0.5 * Math.log(2 * Math.PI)) * A + squashTerm, 10);
    }
    // Deterministic (eps = null): the action is the action-space mean.
    head.forward(ctx, R, raw, 0, null, 0);
    for (let i = 0; i < R * A; i++) expect(ctx.action[i]).toBeCloseTo(ctx.mean[i], 14);
  });

  const parts: (keyof PolicyHeadGrads | 'all')[] = ['dmean', 'dlogStd', 'daction', 'dlogProb', 'dentropy', 'dscaledLogProb', 'all'];
  for (const part of parts) {
    it(`backward matches finite differences (${part})`, () => {
      const ctx = head.createContext(store, R);
      // Moderate raw values keep the BMPC clamp's kinks away from the probes.
      const raw = randn(R * 2 * A + 2, 3, 0.7);
      const eps = randn(R * A, 4, 0.5);
      const g: PolicyHeadGrads = {};
      const pick = (k: keyof PolicyHeadGrads, n: number, seed: number): void => {
        if (part === k || part === 'all') g[k] = randn(n, seed);
      };
      pick('dmean', R * A, 5);
      pick('dlogStd', R * A, 6);
      pick('daction', R * A, 7);
      pick('dlogProb', R, 8);
      pick('dentropy', R, 9);
      pick('dscaledLogProb', R, 10);
      const loss = (): number => {
        head.forward(ctx, R, raw, 2, eps, 0);
        let s = 0;
        if (g.dmean) s += dot(R * A, ctx.mean, 0, g.dmean, 0);
        if (g.dlogStd) s += dot(R * A, ctx.logStd, 0, g.dlogStd, 0);
        if (g.daction) s += dot(R * A, ctx.action, 0, g.daction, 0);
        if (g.dlogProb) s += dot(R, ctx.logProb, 0, g.dlogProb, 0);
        if (g.dentropy) s += dot(R, ctx.entropy, 0, g.dentropy, 0);
        if (g.dscaledLogProb) s += dot(R, ctx.scaledLogProb, 0, g.dscaledLogProb, 0);
        return s;
      };
      loss();
      const draw = f64(raw.length);
      head.backward(ctx, g, draw, 2);
      const idx = Array.from({ length: R * 2 * A }, (_, i) => i + 2);
      checkFd(`policy head ${form} ${part}`, raw, idx, draw, loss, 1e-6, 1e-6);
      expect(draw[0]).toBe(0);
    });
  }
});
