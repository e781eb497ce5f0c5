// Loss pieces of the update against hand-computed values: rho weighting, soft cross-entropy of a
// two-hot target, consistency MSE, termination BCE, Gaussian KL with the expert std transform,
// percentile scales, the decoded-value backward, the TD target on a tiny model (recomputed from
// the model's own inference outputs), and the flat Adam/AdamW step with clipping and zero-NaN.
import { describe, expect, it } from 'vitest';
import type { F32 } from '../src/engine/engine.js';
import { JsEngine } from '../src/engine/js-engine.js';
import { uniformAt } from '../src/engine/rng.js';
import {
  bceLogitsBackward, bceLogitsForward, consistencyBackward, consistencyForward, rhoWeights, softCeBackward, softCeForward,
  tdTarget, twoHotDecodeBackward,
} from '../src/agent/losses.js';
import { PercentileScale, percentileSorted } from '../src/agent/scales.js';
import { FlatAdam } from '../src/agent/optimizer.js';
import { TdTargets } from '../src/agent/td-target.js';
import { PolicyObjective } from '../src/agent/policy-objective.js';
import { makeWorldModelConfig } from '../src/model/config.js';
import { WorldModel } from '../src/model/world-model.js';

const js = new JsEngine(1);
const f64 = (a: number[] | Float64Array): F32 => Float64Array.from(a) as unknown as F32;

describe('rho weights', () => {
  it('BMPC normalizes rho^t to sum 1; TD-MPC2 divides raw rho^t by the number of steps', () => {
    expect(Array.from(rhoWeights(0.5, 3, true))).toEqual([4 / 7, 2 / 7, 1 / 7]);
    expect(Array.from(rhoWeights(0.5, 3, false))).toEqual([1 / 3, 0.5 / 3, 0.25 / 3]);
  });

  it("TD-MPC2 weights reproduce the torch anchor's `20 * Σ_t rho^t mse_t / H`", () => {
    const mse = [0.3, 0.2, 0.7];
    const w = rhoWeights(0.5, 3, false);
    const ours = 20 * (w[0] * mse[0] + w[1] * mse[1] + w[2] * mse[2]);
    const anchor = (20 * (mse[0] + 0.5 * mse[1] + 0.25 * mse[2])) / 3;
    expect(ours).toBeCloseTo(anchor, 14);
  });
});

describe('soft cross-entropy of a two-hot target', () => {
  it('matches -Σ target·log_softmax by hand, and its gradient is coef·(softmax - target)', () => {
    // 3 bins at -1, 0, 1 (symlog space); symlog(r) = 0.5 puts half the mass on bins 1 and 2.
    const NB = 3;
    const r = f64([Math.expm1(0.5)]);
    const target = f64([0, 0, 0]);
    js.twoHotEncode(1, NB, -1, 1, r, 0, target, 0);
    expect(Array.from(target as unknown as Float64Array).map((x) => +x.toFixed(12))).toEqual([0, 0.5, 0.5]);
    const logits = f64([1, 2, 3]);
    const lse = 3 + Math.log(1 + Math.exp(-1) + Math.exp(-2));
    const rowLoss = f64([0]);
    const coef = f64([0.25]);
    const loss = softCeForward(js, 1, NB, logits, 0, target, 0, coef, 0, rowLoss, 0);
    expect(rowLoss[0]).toBeCloseTo(lse - 2.5, 12);
    expect(loss).toBeCloseTo(0.25 * (lse - 2.5), 12);
    const d = f64([0, 0, 0]);
    softCeBackward(js, 1, NB, logits, 0, target, 0, coef, 0, d, 0);
    const p = [1, 2, 3].map((x) => Math.exp(x - lse));
    expect(d[0]).toBeCloseTo(0.25 * p[0], 12);
    expect(d[1]).toBeCloseTo(0.25 * (p[1] - 0.5), 12);
    expect(d[2]).toBeCloseTo(0.25 * (p[2] - 0.5), 12);
  });
});

describe('consistency and termination', () => {
  it('consistency = weight · mean squared residual, gradient 2·weight·residual/n', () => {
    const pred = f64([1, 2, 3, 4]);
    const tgt = f64([0, 2, 5, 4]);
    const diff = f64([0, 0, 0, 0]);
    expect(consistencyForward(js, 2, 2, 0.5, pred, 0, tgt, 0, diff, 0)).toBeCloseTo((0.5 * (1 + 0 + 4 + 0)) / 4, 14);
    const d = f64([0, 0, 0, 0]);
    consistencyBackward(js, 2, 2, 0.5, 10, diff, 0, d, 0);
    expect(Array.from(d as unknown as Float64Array)).toEqual([2.5, 0, -5, 0]);
  });

  it('BCE with logits is stable and matches log 2 / softplus by hand', () => {
    const logit = f64([0, 40, -40, 2]);
    const y = f64([1, 1, 1, 0]);
    const expected = (Math.LN2 + Math.log1p(Math.exp(-40)) + 40 + (2 + Math.log1p(Math.exp(-2)))) / 4;
    expect(bceLogitsForward(4, logit, 0, y, 0)).toBeCloseTo(expected, 12);
    const d = f64([0, 0, 0, 0]);
    bceLogitsBackward(4, 2, logit, 0, y, 0, d, 0);
    expect(d[0]).toBeCloseTo((2 / 4) * (0.5 - 1), 14);
    expect(d[3]).toBeCloseTo((2 / 4) * (1 / (1 + Math.exp(-2))), 14);
  });

  it('TD target assembly: r + γ(1 - d)v', () => {
    const y = f64([0, 0]);
    tdTarget(2, 0.9, f64([1, 2]), 0, f64([10, 10]), 0, f64([0, 1]), 0, y, 0);
    expect(Array.from(y as unknown as Float64Array)).toEqual([1 + 9, 2]);
  });
});

describe('decoded value backward', () => {
  it('matches central differences of symexp(Σ softmax·bins)', () => {
    const NB = 5;
    const logits = f64([0.3, -1.2, 2.0, 0.5, -0.1, 1.1, 0.2, -0.4, 0.9, 3.0]);
    const dout = [0.7, -1.3];
    const d = f64(new Array(10).fill(0));
    twoHotDecodeBackward(2, NB, -2, 2, logits, 0, dout, 0, 0.5, d, 0);
    const out = f64([0, 0]);
    const L = () => {
      js.twoHotDecode(2, NB, -2, 2, logits, 0, out, 0);
      return 0.5 * (dout[0] * out[0] + dout[1] * out[1]);
    };
    for (let i = 0; i < 10; i++) {
      const old = logits[i];
      logits[i] = old + 1e-6;
      const lp = L();
      logits[i] = old - 1e-6;
      const lm = L();
      logits[i] = old;
      expect(d[i]).toBeCloseTo((lp - lm) / 2e-6, 7);
    }
  });
});

describe('percentile scales', () => {
  it('interpolates percentiles linearly between order statistics (torch / numpy)', () => {
    expect(percentileSorted([0, 1, 2, 10], 4, 95)).toBeCloseTo(2 + 0.85 * 8, 12);
    expect(percentileSorted([0, 1, 2, 10], 4, 5)).toBeCloseTo(0.15, 12);
    expect(percentileSorted([7], 1, 95)).toBe(7);
  });

  it('tdmpc2 RunningScale floors the sample range, bmpc floors after the EMA', () => {
    const xs = Array.from({ length: 101 }, (_, i) => 100 - i); // unsorted on purpose
    const a = new PercentileScale(0.01, 'sample', 128);
    expect(a.update(101, xs)).toBeCloseTo(1 + 0.01 * (90 - 1), 12);
    const b = new PercentileScale(0.01, 'ema', 128);
    expect(b.update(101, xs)).toBeCloseTo(1 + 0.01 * (90 - 1), 12);
    // A narrow batch (range 0.5) from scale 2 with tau 0.1: the two floors differ.
    const narrow = Array.from({ length: 11 }, (_, i) => 0.05 * i); // p95 - p5 = 0.45
    const s1 = new PercentileScale(0.1, 'sample', 16);
    s1.load({ value: 2, updates: 1 });
    expect(s1.update(11, narrow)).toBeCloseTo(2 + 0.1 * (1 - 2), 12);
    const s2 = new PercentileScale(0.1, 'ema', 16);
    s2.load({ value: 2, updates: 1 });
    expect(s2.update(11, narrow)).toBeCloseTo(2 + 0.1 * (0.45 - 2), 12);
    // Never below 1, NaN values skipped, an all-NaN batch leaves the scale alone.
    const s3 = new PercentileScale(1, 'ema', 4);
    expect(s3.update(3, [0, 0.1, NaN])).toBe(1);
    expect(s3.update(2, [NaN, NaN])).toBe(1);
    expect(s3.updates).toBe(1);
    // Strided reads (the t = 0 column of a [B, K] array).
    const s4 = new PercentileScale(1, 'sample', 4);
    expect(s4.update(2, [0, 99, 10, 99], 0, 2)).toBeCloseTo(0.95 * 10 - 0.05 * 10, 12);
  });
});

function tinyModel(valueForm: 'V' | 'Q', policyForm: 'tdmpc2' | 'bmpc' = 'tdmpc2'): WorldModel {
  const cfg = makeWorldModelConfig({
    obsDim: 4, actionDim: 2, latentDim: 8, simnormDim: 4, encDim: 6, mlpDim: 6, numEncLayers: 2, numQ: 3,
    numBins: 9, vmin: -4, vmax: 4, dropout: 0, valueForm, policyForm,
  });
  const wm = new WorldModel(js, cfg, { dtype: 'float64', seed: 5 });
  for (let i = 0; i < wm.store.size; i++) wm.params[i] += 0.3 * (2 * uniformAt(42, i) - 1);
  wm.syncTarget();
  for (let i = 0; i < wm.valueTarget.length; i++) wm.valueTarget[i] += 0.2 * (2 * uniformAt(43, i) - 1);
  return wm;
}

describe('TD target on a tiny model, recomputed from its inference outputs', () => {
  const B = 2;
  const H = 2;
  const N = H * B;
  const Z = 8;
  const latents = (): F32 => {
    const z = f64(new Array((H + 1) * B * Z).fill(0));
    for (let i = 0; i < z.length; i++) z[i] = uniformAt(44, i);
    return z;
  };

  const cases = [['V', 'mean'], ['Q', 'mean'], ['Q', 'min2']] as const;
  for (const [valueForm, qTarget] of cases) {
    it(`${valueForm} form${valueForm === 'Q' ? `, q_target ${qTarget}` : ''}`, () => {
      const wm = tinyModel(valueForm);
      const S = 1;
      const ctx = {
        pol: wm.policyNet.createContext(N), rew: wm.rewardNet.createContext(N), val: wm.valueNet.createContext(N),
        dyn: wm.dynamicsNet.createContext(N),
      };
      const td = new TdTargets(js, wm, B, H, S, 0.8, qTarget, ctx);
      const z = latents();
      const zOff = valueForm === 'Q' ? B * Z : 0; // Q bootstraps from the next latents
      const reward = f64([0.5, -1, 2, 0.25]);
      const term = f64([0, 1, 0, 0]);
      const y = Array.from(td.compute(z, zOff, reward, term, 9, 1000) as unknown as Float64Array);
      // By hand: a = π(z) with the same noise counters, then the model's own inference calls.
      const a = f64(new Array(N * 2).fill(0));
      wm.pi(N, z, null, null, a, 9, 1000, { zOff });
      const v = f64(new Array(N).fill(0));
      const expected: number[] = [];
      if (valueForm === 'V') {
        const r = f64(new Array(N).fill(0));
        const z1 = f64(new Array(N * Z).fill(0));
        wm.reward(N, z, a, r, zOff);
        wm.next(N, z, a, z1, 0, zOff);
        wm.value(N, z1, null, v, { target: true });
        for (let i = 0; i < N; i++) expected.push(r[i] + 0.8 * (1 - term[i]) * v[i]);
      } else if (qTarget === 'mean') {
        wm.value(N, z, a, v, { target: true, zOff });
        for (let i = 0; i < N; i++) expected.push(reward[i] + 0.8 * (1 - term[i]) * v[i]);
      } else {
        // tdmpc2's clipped double Q: two distinct target heads, drawn once for the batch from the
        // two counters after the policy noise; the per-row min of their values.
        const K = wm.cfg.numQ;
        const all = f64(new Array(K * N).fill(0));
        wm.value(N, z, a, all, { target: true, zOff, reduce: 'all' });
        const c = 1000 + N * 2;
        const j = Math.floor(uniformAt(9, c) * K);
        let l = Math.floor(uniformAt(9, c + 1) * (K - 1));
        if (l >= j) l++;
        for (let i = 0; i < N; i++) {
          v[i] = Math.min(all[j * N + i], all[l * N + i]);
          expected.push(reward[i] + 0.8 * (1 - term[i]) * v[i]);
        }
        // The min is below the mean of all heads wherever the heads disagree.
        const mean = f64(new Array(N).fill(0));
        wm.value(N, z, a, mean, { target: true, zOff });
        expect(v.some((x, i) => x < mean[i] - 1e-9)).toBe(true);
      }
      for (let i = 0; i < N; i++) expect(y[i]).toBeCloseTo(expected[i], 12);
      // The target network differs from the online one, so the online value would give another y.
      const vOnline = f64(new Array(N).fill(0));
      if (valueForm === 'Q') wm.value(N, z, a, vOnline, { zOff });
      if (valueForm === 'Q') expect(Math.abs(vOnline[0] - v[0])).toBeGreaterThan(1e-6);
    });
  }

  it('num_rollouts averages the targets of independent policy samples', () => {
    const wm = tinyModel('V');
    const mk = (S: number) => new TdTargets(js, wm, B, H, S, 0.8, 'mean', {
      pol: wm.policyNet.createContext(S * N), rew: wm.rewardNet.createContext(S * N),
      val: wm.valueNet.createContext(S * N), dyn: wm.dynamicsNet.createContext(S * N),
    });
    const z = latents();
    const reward = f64([0, 0, 0, 0]);
    const term = f64([0, 0, 0, 0]);
    const one = mk(1);
    const y0 = Array.from(one.compute(z, 0, reward, term, 9, 0) as unknown as Float64Array);
    // Sample s of the 2-rollout target uses counters [s·N·A, (s+1)·N·A) = one rollout at that counter.
    const y1 = Array.from(one.compute(z, 0, reward, term, 9, N * 2) as unknown as Float64Array);
    const y = Array.from(mk(2).compute(z, 0, reward, term, 9, 0) as unknown as Float64Array);
    for (let i = 0; i < N; i++) expect(y[i]).toBeCloseTo((y0[i] + y1[i]) / 2, 12);
  });
});

describe('distillation KL against the expert', () => {
  it('KL(expert||pi) per row = mean over dims, expert std scaled and floored, by hand from the policy outputs', () => {
    const wm = tinyModel('V', 'bmpc');
    const B = 2;
    const H = 1;
    const N1 = (H + 1) * B;
    const A = 2;
    const cfg = {
      objective: 'distill' as const, qEstimate: 'mean' as const, rho: 0.5, rhoNormalize: true, discount: 0.9, entropyCoef: 0, qScaleTau: 0.01,
      fixKlOrder: true, klReduce: 'mean' as const, klScaleTau: 1, expertStdScale: 1.5, expertStdMin: 0.1, startEntropyCoeff: 0, endEntropyCoeff: 0,
    };
    const pol = wm.policyNet.createContext(N1);
    const obj = new PolicyObjective(js, wm, B, H, cfg, { pol, val: null, rew: null, dyn: null });
    const z = f64(new Array(N1 * 8).fill(0).map((_, i) => uniformAt(45, i)));
    const em = f64([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.0, 0.9]);
    const es = f64([0.05, 0.2, 0.4, 1.0, 0.3, 0.3, 0.01, 0.5]); // 0.05·1.5 and 0.01·1.5 hit the 0.1 floor
    const st = obj.run(z, 0, em, es, 0, 3, 0, true, false);
    const kl: number[] = [];
    for (let r = 0; r < N1; r++) {
      let s = 0;
      for (let j = 0; j < A; j++) {
        const i = r * A + j;
        const s1 = Math.max(es[i] * 1.5, 0.1);
        const m2 = pol.head.mean[i];
        const s2 = Math.exp(pol.head.logStd[i]);
        s += Math.log(s2 / s1) + (s1 * s1 + (em[i] - m2) ** 2) / (2 * s2 * s2) - 0.5;
      }
      kl.push(s / A);
    }
    // Distillation trains on the first H steps (pi(z[:-1])): the last step is left out.
    expect(st.kl).toBeCloseTo((kl[0] + kl[1]) / 2, 12);
    // klScaleTau = 1: the scale is the t = 0 rows' percentile range, floored at 1.
    const lo = Math.min(kl[0], kl[1]);
    const hi = Math.max(kl[0], kl[1]);
    const scale = Math.max(1, 0.9 * (hi - lo));
    expect(st.scale).toBeCloseTo(scale, 12);
    // Normalized rho over the H = 1 trained step: w = [1], and 0 for t = H.
    const loss = ((kl[0] + kl[1]) / 2) / scale;
    expect(st.loss).toBeCloseTo(loss, 12);
  });

  it('KL of known Gaussians through the engine kernel', () => {
    const out = f64([0]);
    js.gaussianKlForward(1, f64([0]), 0, f64([0]), 0, f64([1]), 0, f64([Math.log(2)]), 0, out, 0);
    expect(out[0]).toBeCloseTo(Math.log(2) + (1 + 1) / 8 - 0.5, 14);
  });
});

describe('flat Adam / AdamW', () => {
  const mk = (p: number[], g: number[], kind: 'adam' | 'adamw', wd = 0) => {
    const params = f64(p);
    const grads = f64(g);
    const opt = new FlatAdam(js, params, grads, [
      { name: 'a', offset: 0, length: 1, lr: 0.1, eps: 1e-8 },
      { name: 'b', offset: 1, length: p.length - 1, lr: 0.01, eps: 1e-8 },
    ], { kind, weightDecay: wd }, (n) => f64(new Array(n).fill(0)));
    return { params, grads, opt };
  };

  it('first step moves each parameter by lr·sign(g) (bias-corrected), per-group learning rates', () => {
    const { params, opt } = mk([1, 1, 1], [0.5, -2, 0], 'adam');
    const c = opt.clip([0, 1], 0);
    opt.step([0, 1], c.scale);
    expect(params[0]).toBeCloseTo(0.9, 7);
    expect(params[1]).toBeCloseTo(1.01, 7);
    expect(params[2]).toBe(1);
    expect(Array.from(opt.steps)).toEqual([1, 1]);
  });

  it('refuses hyperparameters that would turn the parameters into NaN at the first step', () => {
    const make = (group: Record<string, number>, opts: Record<string, number> = {}) => () => new FlatAdam(js, f64([0, 0]), f64([0, 0]),
      [{ name: 'a', offset: 0, length: 2, lr: 0.1, eps: 1e-8, ...group }], { kind: 'adam', weightDecay: 0, ...opts }, (n) => f64(new Array(n).fill(0)));
    expect(make({ lr: NaN })).toThrow("group 'a' needs a finite lr >= 0, got NaN");
    expect(make({ eps: 0 })).toThrow("group 'a' needs a finite eps > 0, got 0");
    expect(make({ offset: 0.5, length: 1 })).toThrow(/outside the 2 parameters/);
    expect(make({}, { weightDecay: Infinity })).toThrow('weightDecay must be finite and >= 0, got Infinity');
    expect(make({}, { beta2: 1 })).toThrow('beta2 must be in [0, 1), got 1');
  });

  it('clips by the global norm over the given groups and zeroes NaN/Inf gradients', () => {
    const { grads, opt } = mk([0, 0, 0, 0], [3, NaN, 4, Infinity], 'adam');
    const c = opt.clip([0, 1], 1);
    expect(c.nonFinite).toBe(2);
    expect(c.norm).toBeCloseTo(5, 14);
    expect(c.scale).toBeCloseTo(0.2, 14);
    expect(Array.from(grads as unknown as Float64Array)).toEqual([3, 0, 4, 0]);
    opt.step([0, 1], c.scale);
    expect(opt.m[0]).toBeCloseTo(0.1 * 0.6, 14);
    expect(opt.m[2]).toBeCloseTo(0.1 * 0.8, 14);
  });

  it('Adam adds L2 decay to the gradient; AdamW decays the parameter directly', () => {
    const a = mk([2, 0], [0, 0], 'adam', 0.5);
    a.opt.step([0], 1);
    expect(a.params[0]).toBeCloseTo(2 - 0.1, 7); // g = 0.5·2 = 1 -> one lr step
    const w = mk([2, 0], [0, 0], 'adamw', 0.5);
    w.opt.step([0], 1);
    expect(w.params[0]).toBeCloseTo(2 - 0.1 * 0.5 * 2, 12); // zero gradient: only the decay
  });
});
