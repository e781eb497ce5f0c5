// The whole world model: backward of an update-shaped pass (encoder -> dynamics x2 -> reward,
// value, policy, termination) vs finite differences of the fake loss Σ out·dout, entry by entry on
// a random subset of every segment, for both value forms and both policy parameterizations; plus
// the inference API, EMA target, initialization and input validation.
import { describe, expect, it } from 'vitest';
import type { F32 } from '../src/engine/engine.js';
import { JsEngine } from '../src/engine/js-engine.js';
import { ConfigError, ShapeError } from '../src/errors.js';
import { makeWorldModelConfig, type WorldModelConfigInput } from '../src/model/config.js';
import { WorldModelPass } from '../src/model/pass.js';
import { WorldModel } from '../src/model/world-model.js';
import { checkFd, dot, f64, randn, randu, sampleIndices } from './nn-helpers.js';

const e = new JsEngine(1);
const tiny: WorldModelConfigInput = {
  obsDim: 5, actionDim: 2, latentDim: 8, simnormDim: 4, encDim: 6, mlpDim: 32, numEncLayers: 3, numQ: 2, numBins: 7, vmin: -3, vmax: 3,
};

/** Σ over every pass output · its random gradient. */
function fakeLoss(p: WorldModelPass): number {
  const { wm, B, H } = p;
  const { latentDim: Z, actionDim: A } = wm.cfg;
  const H1B = (H + 1) * B;
  const h = p.pol.head;
  const g = p.policyGrads;
  let s = dot(H1B * Z, p.z, 0, p.dz, 0);
  s += dot(p.rewardLogits.length, p.rewardLogits, 0, p.dRewardLogits, 0);
  s += dot(p.valueLogits.length, p.valueLogits, 0, p.dValueLogits, 0);
  s += dot(H1B * A, h.mean, 0, g.dmean, 0) + dot(H1B * A, h.logStd, 0, g.dlogStd, 0) + dot(H1B * A, h.action, 0, g.daction, 0);
  s += dot(H1B, h.logProb, 0, g.dlogProb, 0) + dot(H1B, h.entropy, 0, g.dentropy, 0);
  s += dot(H1B, h.scaledLogProb, 0, g.dscaledLogProb!, 0);
  if (p.termLogits) s += dot(p.termLogits.length, p.termLogits, 0, p.dTermLogits!, 0);
  return s;
}

function fillRandom(a: F32, seed: number, std = 1): void {
  a.set(randn(a.length, seed, std));
}

const variants: [string, Partial<WorldModelConfigInput>][] = [
  ['V(s), bmpc policy, dropout in all value layers, termination', {
    valueForm: 'V', policyForm: 'bmpc', dropout: 0.2, valueDropoutLayers: 'all', termination: true,
  }],
  ['V(s), bmpc policy, dropout after the activation in all value layers (bmpc-jax)', {
    valueForm: 'V', policyForm: 'bmpc', dropout: 0.2, valueDropoutLayers: 'all', valueDropoutPosition: 'after_act',
  }],
  ['Q(s,a), tdmpc2 policy, 2 reward heads x 3 layers, 2 dynamics heads with priors', {
    valueForm: 'Q', policyForm: 'tdmpc2', dropout: 0.2, numRewardHeads: 2, numRewardLayers: 3, numDynamicsHeads: 2, priorScale: 0.5,
  }],
  ['V(s), tdmpc2 policy, torch init', { valueForm: 'V', policyForm: 'tdmpc2', init: 'torch', termination: true }],
  ['Q(s,a), bmpc policy', { valueForm: 'Q', policyForm: 'bmpc' }],
];

describe('world model backward vs finite differences (float64, JS engine)', () => {
  for (const [name, extra] of variants) {
    it(name, () => {
      const cfg = makeWorldModelConfig({ ...tiny, ...extra });
      const wm = new WorldModel(e, cfg, { dtype: 'float64', seed: 3 });
      // Random parameters everywhere (the zero-init outputs would hide upstream gradients).
      e.randomNormal(wm.store.size, 77, 0, 0, 0.4, wm.params, 0);
      const B = 3;
      const H = 2;
      const pass = new WorldModelPass(wm, B, H);
      const obs = randn(B * cfg.obsDim, 1);
      const actions = randu(H * B * cfg.actionDim, 2, -1, 1);
      for (const [i, a] of [pass.dz, pass.dRewardLogits, pass.dValueLogits, pass.dTermLogits].entries()) if (a) fillRandom(a, 10 + i);
      Object.values(pass.policyGrads).forEach((a, i) => fillRandom(a, 20 + i, 0.5));
      const opts = { train: true, seed: 5, counter: 1000, policyCounter: 50 };
      const loss = (): number => {
        pass.forward(obs, actions, opts);
        return fakeLoss(pass);
      };
      wm.zeroGrad();
      loss();
      pass.backward();
      const idx: number[] = [];
      for (const [k, seg] of wm.store.segments.entries()) {
        for (const i of sampleIndices(seg.length, 24, 100 + k)) idx.push(seg.offset + i);
      }
      const r = checkFd(name, wm.params, idx, wm.grads, loss, 1e-6, 1e-6);
      expect(r.checked).toBeGreaterThan(100);
      // Every segment gets gradient (the fake loss touches every network).
      for (const seg of wm.store.segments) expect(e.sumSquares(seg.length, wm.grads, seg.offset), seg.name).toBeGreaterThan(0);
    });
  }

  it('dynamics head 1 with prior: parameter, latent and action gradients', () => {
    const cfg = makeWorldModelConfig({ ...tiny, numDynamicsHeads: 2, priorScale: 0.5 });
    const wm = new WorldModel(e, cfg, { dtype: 'float64' });
    e.randomNormal(wm.store.size, 78, 0, 0, 0.4, wm.params, 0);
    const R = 3;
    const Z = cfg.latentDim;
    const ctx = wm.dynamicsNet.createContext(R);
    const z = randu(R * Z, 3, 0, 0.5);
    const a = randu(R * 2, 4, -1, 1);
    const out = f64(R * Z);
    const dout = randn(R * Z, 5);
    const loss = (): number => {
      wm.dynamicsNet.forward(ctx, R, z, 0, a, 0, out, 0, 1);
      return dot(R * Z, out, 0, dout, 0);
    };
    wm.zeroGrad();
    loss();
    const dz = f64(R * Z);
    const da = f64(R * 2);
    wm.dynamicsNet.backward(ctx, dout, 0, dz, 0, da, 0);
    const seg = wm.seg.dynamics;
    const head1 = wm.dynamicsNet.heads[1].layers[0];
    const idx = sampleIndices(seg.length / 2, 60, 6).map((i) => head1.w + i);
    checkFd('dynamics head 1 params', wm.params, idx, wm.grads, loss);
    checkFd('dynamics dz', z, sampleIndices(R * Z, 24, 7), dz, loss);
    checkFd('dynamics da', a, sampleIndices(R * 2, 6, 8), da, loss);
    // Head 0's parameters are untouched by a head-1 pass.
    expect(e.sumSquares(seg.length / 2, wm.grads, seg.offset)).toBe(0);
  });
});

describe('world model inference API', () => {
  const cfg = makeWorldModelConfig({ ...tiny, valueForm: 'V', policyForm: 'bmpc', numQ: 3, termination: true });

  it('zero-initialized reward/value outputs decode to 0; init is deterministic in the seed', () => {
    const wm = new WorldModel(e, cfg, { seed: 9 });
    const R = 4;
    const obs = randn(R * cfg.obsDim, 1, 1, 'f32');
    const z = new Float32Array(R * cfg.latentDim);
    const a = new Float32Array(R * cfg.actionDim).fill(0.3);
    wm.encode(R, obs, z);
    const r = new Float32Array(R).fill(7);
    const v = new Float32Array(R).fill(7);
    wm.reward(R, z, a, r);
    wm.value(R, z, null, v);
    expect(Array.from(r).map(Math.abs)).toEqual([0, 0, 0, 0]);
    expect(Array.from(v).map(Math.abs)).toEqual([0, 0, 0, 0]);
    const same = new WorldModel(e, cfg, { seed: 9 });
    const other = new WorldModel(e, cfg, { seed: 10 });
    expect(same.params).toEqual(wm.params);
    expect(other.params).not.toEqual(wm.params);
    // Weights of hidden layers: tdmpc2's trunc_normal_(std=0.02), cut at ±2 absolute, i.e. std 0.02
    // (cutting at ±2σ would give 0.0176); LayerNorm gamma 1, beta 0.
    const ws = wm.store.tensors
      .filter((t) => t.init.kind === 'truncNormal')
      .flatMap((t) => Array.from(wm.params.subarray(t.offset, t.offset + t.size)));
    const std = Math.sqrt(ws.reduce((s, x) => s + x * x, 0) / ws.length);
    expect(ws.length).toBeGreaterThan(5000);
    expect(std).toBeGreaterThan(0.0195);
    expect(std).toBeLessThan(0.0205);
    expect(Math.max(...ws.map(Math.abs))).toBeGreaterThan(0.06); // beyond 3σ: no ±2σ cut
    // bmpc-jax's JAX truncated_normal(0.02) cuts at ±2σ and does not rescale: std 0.88·0.02.
    const jax = new WorldModel(e, makeWorldModelConfig({ ...tiny, init: 'trunc_normal_jax' }), { seed: 9 });
    const wj = jax.store.tensors.filter((t) => t.init.kind === 'truncNormal')
      .flatMap((t) => Array.from(jax.params.subarray(t.offset, t.offset + t.size)));
    const stdJax = Math.sqrt(wj.reduce((s, x) => s + x * x, 0) / wj.length);
    expect(stdJax).toBeGreaterThan(0.0171);
    expect(stdJax).toBeLessThan(0.0181);
    expect(Math.max(...wj.map(Math.abs))).toBeLessThanOrEqual(0.04);
    const g = wm.store.tensor('encoder.0.ln.weight');
    expect(Array.from(wm.params.subarray(g.offset, g.offset + g.size)).every((x) => x === 1)).toBe(true);
  });

  it('agrees with the network forwards; mean/all reductions, EMA target, policy sampling', () => {
    const wm = new WorldModel(e, cfg, { seed: 4 });
    e.randomNormal(wm.store.size, 79, 0, 0, 0.3, wm.params, 0);
    wm.syncTarget();
    const R = 5;
    const { latentDim: Z, actionDim: A, numQ: K } = cfg;
    const obs = randn(R * cfg.obsDim, 2, 1, 'f32');
    const z = new Float32Array(R * Z);
    wm.encode(R, obs, z);
    const ctx = wm.encoderNet.createContext(R);
    const z2 = new Float32Array(R * Z);
    wm.encoderNet.forward(ctx, R, obs, 0, z2, 0);
    expect(z).toEqual(z2);
    const a = randu(R * A, 3, -1, 1);
    const af = Float32Array.from(a);
    const zn = new Float32Array(R * Z);
    wm.next(R, z, af, zn);
    for (let r = 0; r < R; r++) expect(dot(Z, zn, r * Z, new Float32Array(Z).fill(1), 0)).toBeCloseTo(Z / cfg.simnormDim, 4);
    const all = new Float32Array(K * R);
    const mean = new Float32Array(R);
    wm.value(R, zn, null, all, { reduce: 'all' });
    wm.value(R, zn, null, mean);
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += all[k * R + r];
      expect(mean[r]).toBeCloseTo(s / K, 5);
    }
    const tgt = new Float32Array(R);
    wm.value(R, zn, null, tgt, { target: true });
    expect(tgt).toEqual(mean);
    // Move the online value params; the target follows by tau.
    const vs = wm.seg.value;
    const before = Float32Array.from(wm.valueTarget);
    for (let i = 0; i < vs.length; i++) wm.params[vs.offset + i] += 0.5;
    wm.updateTarget(0.1);
    for (const i of [0, 7, vs.length - 1]) expect(wm.valueTarget[i]).toBeCloseTo(before[i] + 0.05, 5);
    wm.value(R, zn, null, tgt, { target: true });
    wm.value(R, zn, null, mean);
    expect(tgt).not.toEqual(mean);
    // Policy: deterministic action = mean; sampling is a pure function of (seed, counter).
    const m = new Float32Array(R * A);
    const ls = new Float32Array(R * A);
    const act = new Float32Array(R * A);
    wm.pi(R, z, m, ls, act, 1, 0, { sample: false });
    expect(act).toEqual(m);
    const act1 = new Float32Array(R * A);
    const act2 = new Float32Array(R * A);
    wm.pi(R, z, null, null, act1, 1, 500);
    wm.pi(R, z, null, null, act2, 1, 500);
    expect(act1).toEqual(act2);
    expect(act1).not.toEqual(act);
    expect(Array.from(ls).every((x) => x >= cfg.logStdMin && x <= cfg.logStdMax)).toBe(true);
    const logit = new Float32Array(R);
    wm.terminationLogit(R, z, logit);
    expect(Array.from(logit).every(Number.isFinite)).toBe(true);
  });

  it('adopts caller arrays (SharedArrayBuffer) without re-initializing them', () => {
    const n = WorldModel.layout(e, cfg).size;
    const shared = new Float32Array(new SharedArrayBuffer(4 * n)).fill(0.25);
    const wm = new WorldModel(e, cfg, { params: shared });
    expect(wm.params).toBe(shared);
    expect(shared[0]).toBe(0.25);
    expect(() => new WorldModel(e, cfg, { params: new Float32Array(n - 1) })).toThrow(ConfigError);
    expect(() => new WorldModel(e, cfg, { params: new Float32Array(n - 1) })).toThrow(`needs ${n}`);
    expect(() => new WorldModel(e, cfg, { valueTarget: new Float32Array(3) })).toThrow(ShapeError);
  });

  it('rejects bad inputs with clear errors', () => {
    const wm = new WorldModel(e, cfg, { inferenceRows: 4 });
    const z = new Float32Array(8 * cfg.latentDim);
    const a = new Float32Array(8 * cfg.actionDim);
    expect(() => wm.next(5, z, a, z)).toThrow(/rows R=5 must be an integer in \[1, 4\]/);
    expect(() => wm.next(2, z, a, new Float32Array(3))).toThrow(ShapeError);
    expect(() => wm.next(2, z, a, z, 2)).toThrow('dynamics: head 2 out of range [0, 1)');
    expect(() => wm.encode(2, new Float32Array(3), z)).toThrow(ShapeError);
    const q = new WorldModel(e, makeWorldModelConfig({ ...tiny, valueForm: 'Q' }));
    expect(() => q.value(2, z, null, new Float32Array(2))).toThrow(/Q\(s,a\) form needs actions/);
    expect(() => q.terminationLogit(2, z, new Float32Array(2))).toThrow(/no termination head/);
    expect(() => new WorldModel(e, { ...cfg, latentDim: 9 })).toThrow(ConfigError);
  });
});
