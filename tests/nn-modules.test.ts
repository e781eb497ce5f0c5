// Every nn module's backward vs central finite differences of the fake loss Σ out·dout, in float64
// with the JS engine, on tiny shapes; plus the module plumbing (param shift, detached backward,
// dropout masks, two-hot helpers, errors).
import { describe, expect, it } from 'vitest';
import { ACT_MISH, ACT_NONE, ACT_SIMNORM, type F32 } from '../src/engine/engine.js';
import { JsEngine } from '../src/engine/js-engine.js';
import { ConfigError, ShapeError } from '../src/errors.js';
import { dropoutMask } from '../src/nn/dropout.js';
import { Ensemble } from '../src/nn/ensemble.js';
import { Linear } from '../src/nn/linear.js';
import { Mlp, type MlpSpec } from '../src/nn/mlp.js';
import { NormedLinear, type DropoutPosition } from '../src/nn/normed-linear.js';
import { ParamStore } from '../src/nn/params.js';
import { SimNorm } from '../src/nn/simnorm.js';
import { binValue, symexp, symlog, twoHot, twoHotInv } from '../src/nn/two-hot.js';
import { checkFd, dot, f64, randn } from './nn-helpers.js';

const e = new JsEngine(1);

interface Out {
  a: F32;
  off: number;
  n: number;
}

/**
 * Fake-loss check of one module: loss = Σ_o out_o·dout_o; the analytic gradient comes from
 * backward(douts, dinputs) into store.grads and dinputs; every parameter and input entry is checked.
 */
function checkModule(
  label: string, store: ParamStore, inputs: F32[], forward: () => Out[], backward: (douts: F32[], dinputs: F32[]) => void,
): void {
  const outs0 = forward();
  const douts = outs0.map((o, i) => randn(o.n, 900 + i));
  const loss = (): number => forward().reduce((s, o, i) => s + dot(o.n, o.a, o.off, douts[i], 0), 0);
  store.zeroGrad();
  forward();
  const dinputs = inputs.map((x) => f64(x.length));
  backward(douts, dinputs);
  const all = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  checkFd(`${label} params`, store.params, all(store.size), store.grads, loss);
  inputs.forEach((x, k) => checkFd(`${label} input ${k}`, x, all(x.length), dinputs[k], loss));
}

function newStore(): ParamStore {
  const s = new ParamStore({ dtype: 'float64' });
  s.beginSegment('net');
  return s;
}

function finish(s: ParamStore, seed: number): void {
  s.endSegment();
  s.finalize();
  // Random values everywhere (incl. LayerNorm gamma/beta) so no gradient path is trivially zero.
  e.randomNormal(s.size, seed, 0, 0, 0.6, s.params, 0);
}

describe('Linear', () => {
  it('backward matches finite differences', () => {
    const s = newStore();
    const lin = new Linear(s, 'lin', 3, 4, { weight: { kind: 'zeros' }, bias: { kind: 'zeros' } });
    finish(s, 1);
    const R = 5;
    const x = randn(R * 3, 2);
    const y = f64(R * 4);
    checkModule('linear', s, [x], () => {
      lin.forward(e, R, s.params, 0, x, 0, y, 0);
      return [{ a: y, off: 0, n: R * 4 }];
    }, (d, dx) => lin.backward(e, R, s.params, 0, s.grads, 0, x, 0, d[0], 0, dx[0], 0));
  });
});

describe('NormedLinear', () => {
  const cases: [string, number, number, number, DropoutPosition][] = [
    ['none', ACT_NONE, 1, 0, 'before_norm'], ['mish', ACT_MISH, 1, 0, 'before_norm'], ['simnorm', ACT_SIMNORM, 4, 0, 'before_norm'],
    ['mish+dropout', ACT_MISH, 1, 0.3, 'before_norm'],
    ['mish+dropout after the activation (bmpc-jax)', ACT_MISH, 1, 0.3, 'after_act'],
    ['simnorm+dropout after the activation', ACT_SIMNORM, 4, 0.3, 'after_act'],
  ];
  for (const [name, act, group, p, position] of cases) {
    it(`backward matches finite differences (${name})`, () => {
      const s = newStore();
      const nl = new NormedLinear(s, 'nl', 3, 8, act as 0 | 1 | 2, group, p, { weight: { kind: 'zeros' }, bias: { kind: 'zeros' } }, position);
      finish(s, 3);
      const R = 4;
      const st = nl.createState(s, 6);
      const x = randn(R * 3, 4);
      const rng = p > 0 ? { seed: 5, counter: 100 } : null;
      const scratch = f64(6 * 8);
      checkModule(`normed-linear ${name}`, s, [x], () => {
        nl.forward(e, R, s.params, 0, x, 0, st, rng);
        return [{ a: st.out, off: 0, n: R * 8 }];
      }, (d, dx) => nl.backward(e, R, s.params, 0, s.grads, 0, x, 0, st, d[0], 0, dx[0], 0, scratch));
      if (p > 0) {
        expect(st.masked).toBe(true);
        const m = Array.from(st.mask!.subarray(0, R * 8));
        expect(m.some((v) => v === 0)).toBe(true);
        expect(m.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-12)).toBe(true);
        // After the activation a dropped unit's output is exactly 0 (before LayerNorm it is not).
        const zeroed = m.map((v, i) => (v === 0 ? st.out[i] : null)).filter((v) => v !== null);
        expect(zeroed.every((v) => v === 0)).toBe(position === 'after_act');
      }
    });
  }
});

describe('SimNorm', () => {
  it('backward matches finite differences and rows of each group sum to 1', () => {
    const sn = new SimNorm(8, 4);
    const R = 3;
    const x = randn(R * 8, 6, 2);
    const y = f64(R * 8);
    const dy = randn(R * 8, 7);
    sn.forward(e, R, x, 0, y, 0);
    for (let g = 0; g < R * 2; g++) expect(dot(4, y, g * 4, [1, 1, 1, 1], 0)).toBeCloseTo(1, 12);
    const dx = f64(R * 8);
    sn.backward(e, R, y, 0, dy, 0, dx, 0);
    checkFd('simnorm', x, Array.from({ length: R * 8 }, (_, i) => i), dx, () => {
      sn.forward(e, R, x, 0, y, 0);
      return dot(R * 8, y, 0, dy, 0);
    });
    expect(() => new SimNorm(10, 4)).toThrow(ConfigError);
  });
});

describe('Mlp', () => {
  const specs: [string, MlpSpec, boolean][] = [
    ['linear out', { inDim: 3, hidden: [6, 5], outDim: 4, outAct: 'linear', init: 'torch' }, false],
    ['simnorm out', { inDim: 3, hidden: [5], outDim: 8, outAct: ACT_SIMNORM, group: 4, init: 'trunc_normal' }, false],
    ['dropout, train', { inDim: 3, hidden: [6, 5], outDim: 4, outAct: 'linear', init: 'torch', dropout: [0.25, 0.25] }, true],
    ['dropout after the activation, train', { inDim: 3, hidden: [6, 5], outDim: 4, outAct: 'linear', init: 'torch', dropout: [0.25, 0.25],
      dropoutPosition: 'after_act' }, true],
  ];
  for (const [name, spec, train] of specs) {
    it(`backward matches finite differences (${name})`, () => {
      const s = newStore();
      const mlp = new Mlp(e, s, 'mlp', spec);
      finish(s, 8);
      const R = 4;
      const ctx = mlp.createContext(5);
      const x = randn(R * 3, 9);
      const out = f64(R * spec.outDim + 3);
      const opts = train ? { train: true, seed: 11, counter: 7 } : {};
      checkModule(`mlp ${name}`, s, [x], () => {
        mlp.forward(ctx, R, x, 0, out, 3, opts);
        return [{ a: out, off: 3, n: R * spec.outDim }];
      }, (d, dx) => mlp.backward(ctx, d[0], 0, dx[0], 0));
      if (train) expect(mlp.dropoutCount(R)).toBe(R * 11);
    });
  }

  it('null out leaves the result in the context, the same as an explicit out', () => {
    const s = newStore();
    const mlp = new Mlp(e, s, 'mlp', { inDim: 3, hidden: [4], outDim: 2, outAct: 'linear', init: 'torch' });
    finish(s, 12);
    const ctx = mlp.createContext(3);
    const x = randn(9, 13);
    const out = f64(6);
    mlp.forward(ctx, 3, x, 0, out, 0);
    mlp.forward(ctx, 3, x, 0, null, 0);
    expect(Array.from(ctx.out.subarray(ctx.outOff, ctx.outOff + 6))).toEqual(Array.from(out));
  });

  it('runs on a shifted parameter copy; detached backward gives dx but leaves grads alone', () => {
    const s = new ParamStore({ dtype: 'float64' });
    s.beginSegment('other');
    s.add('pad', [7], { kind: 'zeros' });
    s.endSegment();
    s.beginSegment('net');
    const mlp = new Mlp(e, s, 'mlp', { inDim: 3, hidden: [5], outDim: 2, outAct: 'linear', init: 'torch' });
    const seg = s.endSegment();
    s.finalize();
    e.randomNormal(s.size, 14, 0, 0, 0.5, s.params, 0);
    const target = s.allocSegment('net');
    e.copy(seg.length, s.params, seg.offset, target, 0);
    const ctx = mlp.createContext(4);
    const x = randn(12, 15);
    const a = f64(8);
    const b = f64(8);
    mlp.forward(ctx, 4, x, 0, a, 0);
    mlp.forward(ctx, 4, x, 0, b, 0, { params: target, shift: -seg.offset });
    expect(Array.from(b)).toEqual(Array.from(a));
    // Perturbing the copy changes only the shifted forward.
    target[0] += 1;
    mlp.forward(ctx, 4, x, 0, b, 0, { params: target, shift: -seg.offset });
    expect(Array.from(b)).not.toEqual(Array.from(a));
    target[0] -= 1;
    const dout = randn(8, 16);
    const dx1 = f64(12);
    const dx2 = f64(12);
    s.zeroGrad();
    mlp.forward(ctx, 4, x, 0, a, 0);
    mlp.backward(ctx, dout, 0, dx1, 0);
    expect(e.sumSquares(s.size, s.grads, 0)).toBeGreaterThan(0);
    s.zeroGrad();
    mlp.backward(ctx, dout, 0, dx2, 0, { grads: null });
    expect(e.sumSquares(s.size, s.grads, 0)).toBe(0);
    expect(Array.from(dx2)).toEqual(Array.from(dx1));
    // Gradients into a segment-shaped array with gradShift land at the same relative places.
    const g = s.allocSegment('net');
    s.zeroGrad();
    mlp.backward(ctx, dout, 0, null, 0);
    mlp.backward(ctx, dout, 0, null, 0, { grads: g, gradShift: -seg.offset });
    expect(Array.from(g)).toEqual(Array.from(s.grads.subarray(seg.offset)));
  });

  it('rejects bad rows and train mode without an RNG', () => {
    const s = newStore();
    const mlp = new Mlp(e, s, 'mlp', { inDim: 3, hidden: [4], outDim: 2, outAct: 'linear', init: 'torch', dropout: [0.1] });
    finish(s, 17);
    const ctx = mlp.createContext(2);
    const x = randn(9, 18);
    expect(() => mlp.forward(ctx, 3, x, 0, null, 0)).toThrow(ShapeError);
    expect(() => mlp.forward(ctx, 3, x, 0, null, 0)).toThrow(/maxRows/);
    expect(() => mlp.forward(ctx, 2, x, 0, null, 0, { train: true })).toThrow(ConfigError);
    expect(() => mlp.forward(ctx, 2, x, 0, f64(1), 0)).toThrow(ShapeError);
  });
});

describe('Ensemble', () => {
  it('backward matches finite differences (3 heads, z ⊕ a input, dropout)', () => {
    const s = newStore();
    const ens = new Ensemble(e, s, 'ens', 3, 4, 2, { hidden: [5, 5], outDim: 3, outAct: 'linear', init: 'torch', dropout: [0.2, 0.2] });
    finish(s, 19);
    expect(ens.headStride * 3).toBe(s.size);
    const R = 3;
    const ctx = ens.createContext(4);
    const z = randn(R * 4, 20);
    const a = randn(R * 2, 21);
    const out = f64(3 * R * 3);
    checkModule('ensemble two-input', s, [z, a], () => {
      ens.forward(ctx, R, z, 0, a, 0, out, 0, { train: true, seed: 3, counter: 50 });
      return [{ a: out, off: 0, n: out.length }];
    }, (d, dx) => ens.backward(ctx, d[0], 0, dx[0], 0, dx[1], 0));
  });

  it('backward matches finite differences (2 heads, one input) and heads are independent blocks', () => {
    const s = newStore();
    const ens = new Ensemble(e, s, 'ens', 2, 4, 0, { hidden: [5], outDim: 3, outAct: 'linear', init: 'torch' });
    finish(s, 22);
    const R = 3;
    const ctx = ens.createContext(3);
    const z = randn(R * 4, 23);
    checkModule('ensemble one-input', s, [z], () => {
      ens.forward(ctx, R, z, 0, null, 0, null, 0);
      return [{ a: ctx.out, off: ctx.outOff, n: 2 * R * 3 }];
    }, (d, dx) => ens.backward(ctx, d[0], 0, dx[0], 0, null, 0));
    // Head 1 alone equals an Mlp evaluated on head 1's block.
    const head1 = f64(R * 3);
    ens.heads[1].forward(ens.heads[1].createContext(R), R, z, 0, head1, 0);
    ens.forward(ctx, R, z, 0, null, 0, null, 0);
    expect(Array.from(ctx.out.subarray(R * 3, 2 * R * 3))).toEqual(Array.from(head1));
    expect(() => ens.forward(ctx, R, z, 0, z, 0, null, 0)).toThrow(ShapeError);
  });

  it('a subset of heads (tdmpc2 reads 2 random Q heads): the same outputs and gradients as the full pass', () => {
    const s = newStore();
    const K = 4;
    const ens = new Ensemble(e, s, 'ens', K, 4, 2, { hidden: [5, 5], outDim: 3, outAct: 'linear', init: 'torch', dropout: [0.2, 0.2] });
    finish(s, 24);
    const R = 3;
    const per = R * 3;
    const ctx = ens.createContext(R);
    const z = randn(R * 4, 25);
    const a = randn(R * 2, 26);
    const fwd = { train: true, seed: 5, counter: 70 };
    const full = f64(K * per);
    ens.forward(ctx, R, z, 0, a, 0, full, 0, fwd);
    const heads = [3, 1];
    const sub = f64(2 * per);
    ens.forward(ctx, R, z, 0, a, 0, sub, 0, fwd, heads);
    expect(ctx.active).toEqual(heads);
    // Slot i holds head heads[i], dropout masks included (a head's counters do not depend on the subset).
    heads.forEach((k, i) => expect(Array.from(sub.subarray(i * per, (i + 1) * per))).toEqual(Array.from(full.subarray(k * per, (k + 1) * per))));
    // Backward of the subset pass = backward of the full pass with dout 0 on the other heads.
    const dsub = randn(2 * per, 27);
    const dfull = f64(K * per);
    heads.forEach((k, i) => dfull.set(dsub.subarray(i * per, (i + 1) * per), k * per));
    const run = (hs: number[] | null, out: F32, dout: F32) => {
      s.zeroGrad();
      const dz = f64(R * 4);
      const da = f64(R * 2);
      ens.forward(ctx, R, z, 0, a, 0, out, 0, fwd, hs);
      ens.backward(ctx, dout, 0, dz, 0, da, 0);
      return { p: Array.from(s.grads), dz: Array.from(dz), da: Array.from(da) };
    };
    const gs = run(heads, sub, dsub);
    const gf = run(null, full, dfull);
    for (let i = 0; i < s.size; i++) expect(gs.p[i]).toBeCloseTo(gf.p[i], 12);
    for (let i = 0; i < R * 4; i++) expect(gs.dz[i]).toBeCloseTo(gf.dz[i], 12);
    for (let i = 0; i < R * 2; i++) expect(gs.da[i]).toBeCloseTo(gf.da[i], 12);
    // Heads 0 and 2 did not run: no gradient in their blocks.
    for (const k of [0, 2]) for (let i = k * ens.headStride; i < (k + 1) * ens.headStride; i++) expect(gs.p[i]).toBe(0);
    expect(() => ens.forward(ctx, R, z, 0, a, 0, sub, 0, fwd, [4])).toThrow(ShapeError);
  });
});

describe('dropout masks', () => {
  it('are 0 or 1/(1-p), about p zeros, and a pure function of (seed, counter)', () => {
    const n = 20000;
    const m = f64(n);
    dropoutMask(e, n, 0.1, 42, 1000, m, 0);
    let zeros = 0;
    let other = 0;
    for (let i = 0; i < n; i++) {
      if (m[i] === 0) zeros++;
      else if (m[i] !== 1 / 0.9) other++;
    }
    expect(other).toBe(0);
    expect(Math.abs(zeros / n - 0.1)).toBeLessThan(0.01);
    const tail = f64(100);
    dropoutMask(e, 100, 0.1, 42, 1500, tail, 0);
    expect(Array.from(tail)).toEqual(Array.from(m.subarray(500, 600)));
    dropoutMask(e, 100, 0.1, 43, 1500, tail, 0);
    expect(Array.from(tail)).not.toEqual(Array.from(m.subarray(500, 600)));
  });
});

describe('two-hot helpers', () => {
  it('agree with the engine kernels and invert each other on bin centres', () => {
    const NB = 101;
    const xs = [-50, -3.2, -1, 0, 0.37, 1, 2.5, 7, 1e6];
    const host = f64(NB);
    const dev = f64(xs.length * NB);
    e.twoHotEncode(xs.length, NB, -10, 10, Float64Array.from(xs) as unknown as F32, 0, dev, 0);
    xs.forEach((x, i) => {
      twoHot(x, NB, -10, 10, host, 0);
      for (let k = 0; k < NB; k++) expect(host[k]).toBeCloseTo(dev[i * NB + k], 12);
      expect(dot(NB, host, 0, host.map(() => 1), 0)).toBeCloseTo(1, 12);
    });
    const logits = randn(3 * NB, 31, 2);
    const dec = f64(3);
    e.twoHotDecode(3, NB, -10, 10, logits, 0, dec, 0);
    for (let r = 0; r < 3; r++) expect(twoHotInv(logits, r * NB, NB, -10, 10)).toBeCloseTo(dec[r], 9);
    expect(symexp(symlog(-123.5))).toBeCloseTo(-123.5, 9);
    expect(binValue(50, NB, -10, 10)).toBe(0);
    // A very peaked distribution on bin k decodes to symexp(bin_k).
    const peaked = f64(NB).fill(-1e3);
    peaked[70] = 0;
    expect(twoHotInv(peaked, 0, NB, -10, 10)).toBeCloseTo(symexp(binValue(70, NB, -10, 10)), 9);
  });
});
