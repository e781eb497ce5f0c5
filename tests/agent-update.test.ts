// The full training update against central finite differences in float64 (JS engine with
// Float64Array parameters, tiny models): every loss term, both value forms, both policy objectives
// and both policy parameterizations. The checked functions are the ones the update differentiates:
// the world-model total (targets held fixed: stop-gradient) w.r.t. every non-policy parameter, and
// the policy loss (scale held fixed, latents detached) w.r.t. the policy's parameters.
// Plus behaviour of update(): steps, frequencies, zero-NaN counting, EMA, determinism.
import { afterAll, describe, expect, it } from 'vitest';
import type { F32 } from '../src/engine/engine.js';
import { JsEngine } from '../src/engine/js-engine.js';
import { uniformAt } from '../src/engine/rng.js';
import { makeWorldModelConfig, type WorldModelConfigInput } from '../src/model/config.js';
import { WorldModel } from '../src/model/world-model.js';
import { allocateBatch, type ReplayBatch } from '../src/replay/replay-buffer.js';
import { Updater, type UpdateOptions } from '../src/agent/update.js';

const js = new JsEngine(1);
const O = 5;
const A = 2;
const B = 3;
const H = 2;

let dataCounter = 0;
const u = (lo: number, hi: number): number => lo + (hi - lo) * uniformAt(777, dataCounter++);

function makeModel(over: Partial<WorldModelConfigInput>, seed = 3): WorldModel {
  const cfg = makeWorldModelConfig({
    obsDim: O, actionDim: A, latentDim: 8, simnormDim: 4, encDim: 6, mlpDim: 7, numEncLayers: 2, numQ: 2,
    numBins: 7, vmin: -3, vmax: 3, dropout: 0, ...over,
  });
  const wm = new WorldModel(js, cfg, { dtype: 'float64', seed });
  // Break the zero-initialized output layers and unit LayerNorm gains: random parameters everywhere,
  // so no gradient is trivially zero.
  const p = wm.params;
  for (let i = 0; i < wm.store.size; i++) p[i] += u(-0.4, 0.4);
  wm.syncTarget();
  for (let i = 0; i < wm.valueTarget.length; i++) wm.valueTarget[i] += u(-0.1, 0.1);
  return wm;
}

function makeBatch(options: { nanExpert?: boolean; terminated?: boolean } = {}): ReplayBatch {
  const b = allocateBatch(B, H, O, A);
  for (let i = 0; i < b.obs.length; i++) b.obs[i] = u(-1, 1);
  for (let i = 0; i < b.action.length; i++) b.action[i] = u(-0.9, 0.9);
  for (let i = 0; i < b.reward.length; i++) b.reward[i] = u(-3, 3);
  for (let i = 0; i < b.terminated.length; i++) b.terminated[i] = options.terminated && i % 4 === 1 ? 1 : 0;
  for (let i = 0; i < b.expertMean.length; i++) b.expertMean[i] = u(-0.7, 0.7);
  for (let i = 0; i < b.expertStd.length; i++) b.expertStd[i] = u(0.02, 0.6);
  if (options.nanExpert) {
    // Slice 1 ends an episode: no expert at its final observation (t = H).
    for (let j = 0; j < A; j++) {
      b.expertMean[(H * B + 1) * A + j] = NaN;
      b.expertStd[(H * B + 1) * A + j] = NaN;
    }
  }
  return b;
}

function options(over: Partial<UpdateOptions> & { policy?: Partial<UpdateOptions['policy']> } = {}): UpdateOptions {
  const base: UpdateOptions = {
    batchSize: B, horizon: H, discount: 0.9, seed: 11, rho: 0.7, rhoNormalize: false,
    consistencyCoef: 20, rewardCoef: 0.3, valueCoef: 0.2, terminationCoef: 0.5, numRollouts: 1,
    imagineInitialSource: 'encoder', qTarget: 'min2',
    policy: {
      objective: 'distill', qEstimate: 'avg2', entropyCoef: 0.05, qScaleTau: 0.3, fixKlOrder: true, klReduce: 'mean', klScaleTau: 0.3,
      expertStdScale: 1.5, expertStdMin: 0.1, startEntropyCoeff: 0.02, endEntropyCoeff: 0.2,
    },
    lr: 1e-3, encLrScale: 0.3, piLrScale: 1, optimizer: 'adam', weightDecay: 0, gradClipNorm: 20,
    tau: 0.05, valueUpdateFreq: 1, piUpdateFreq: 1,
  };
  return { ...base, ...over, policy: { ...base.policy, ...over.policy } };
}

/** Picks `count` distinct indices of [offset, offset + length) spread over the range. */
function sample(offset: number, length: number, count: number): number[] {
  const out = new Set<number>();
  const n = Math.min(count, length);
  while (out.size < n) out.add(offset + Math.floor(uniformAt(99, dataCounter++) * length));
  return [...out];
}

interface Check { segment: string; index: number; analytic: number; numeric: number }

/** Central differences of the update's objectives at sampled parameters of every segment. */
function gradientCheck(wm: WorldModel, up: Updater, batch: ReplayBatch, progress: number, perSegment = 12): Check[] {
  up.computeGradients(batch, progress);
  const g = Float64Array.from(wm.grads as unknown as Float64Array);
  const p = wm.params;
  const h = 1e-6;
  const checks: Check[] = [];
  for (const seg of wm.trainableSegments()) {
    const which = seg.name === 'policy' ? 'pi' : 'model';
    for (const i of sample(seg.offset, seg.length, perSegment)) {
      const old = p[i];
      p[i] = old + h;
      const lp = up.evaluateLosses(batch, progress)[which];
      p[i] = old - h;
      const lm = up.evaluateLosses(batch, progress)[which];
      p[i] = old;
      checks.push({ segment: seg.name, index: i, analytic: g[i], numeric: (lp - lm) / (2 * h) });
    }
  }
  return checks;
}

function expectGradientsMatch(checks: Check[]): void {
  let nonzero = 0;
  for (const c of checks) {
    const tol = 1e-6 + 1e-5 * Math.max(Math.abs(c.analytic), Math.abs(c.numeric));
    if (!(Math.abs(c.analytic - c.numeric) <= tol)) {
      expect.fail(`${c.segment}[${c.index}]: analytic ${c.analytic} vs finite difference ${c.numeric}`);
    }
    if (Math.abs(c.analytic) > 1e-5) nonzero++;
  }
  // Most sampled entries must carry real gradient (a silently disconnected term would show as 0 = 0).
  expect(nonzero).toBeGreaterThan(checks.length * 0.6);
}

describe('update gradients vs finite differences (float64)', () => {
  it('V form, BMPC policy, distill KL(expert||pi), rho normalized, termination, dropout, 2 rollouts, NaN expert row', () => {
    const wm = makeModel({ valueForm: 'V', policyForm: 'bmpc', termination: true, dropout: 0.2, numQ: 3 });
    const up = new Updater(js, wm, options({
      rhoNormalize: true, numRollouts: 2, imagineInitialSource: 'encoder', policy: { objective: 'distill', fixKlOrder: true },
    }));
    const batch = makeBatch({ nanExpert: true, terminated: true });
    const checks = gradientCheck(wm, up, batch, 0.4);
    expectGradientsMatch(checks);
    expect(checks.map((c) => c.segment)).toContain('termination');
    const info = up.info;
    for (const k of ['consistency_loss', 'reward_loss', 'value_loss', 'termination_loss', 'pi_loss', 'kl'] as const) {
      expect(info[k], k).toBeGreaterThan(0);
    }
    expect(info.pi_entropy_coef).toBeCloseTo(0.02 + 0.18 * 0.4, 12);
  });

  it('Q form, TD-MPC2 policy, max_q with entropy, raw rho, rollout imagination, 2 reward heads', () => {
    const wm = makeModel({ valueForm: 'Q', policyForm: 'tdmpc2', numRewardHeads: 2, dropout: 0.1 });
    const up = new Updater(js, wm, options({
      rhoNormalize: false, imagineInitialSource: 'rollout', policy: { objective: 'max_q', entropyCoef: 0.05 },
    }));
    const batch = makeBatch({ terminated: true });
    expectGradientsMatch(gradientCheck(wm, up, batch, 0));
    expect(up.info.pi_q).not.toBe(0);
  });

  for (const objective of ['max_q', 'residual'] as const) {
    it(`Q form, ${objective} with q_estimate avg2 on 4 heads (tdmpc2's Q(..., 'avg'): 2 random heads per update), dropout`, () => {
      const wm = makeModel({ valueForm: 'Q', policyForm: 'tdmpc2', numQ: 4, dropout: 0.1 });
      const policy = { objective, entropyCoef: 0.05, priorCoef: 40, priorScaleThreshold: 0, priorMinStd: 0.05 };
      const up = new Updater(js, wm, options({ policy: { ...policy, qEstimate: 'avg2' } }));
      const batch = makeBatch();
      expectGradientsMatch(gradientCheck(wm, up, batch, 0));
      // Not the mean over all 4 heads (same model, batch and counters).
      const mean = new Updater(js, wm, options({ policy: { ...policy, qEstimate: 'mean' } }));
      up.computeGradients(batch, 0);
      mean.computeGradients(batch, 0);
      expect(Math.abs(up.info.pi_q - mean.info.pi_q)).toBeGreaterThan(1e-6);
    });
  }

  it('V form, TD-MPC2 policy, max_q through the one-step lookahead r + γV(next)', () => {
    const wm = makeModel({ valueForm: 'V', policyForm: 'tdmpc2' });
    const up = new Updater(js, wm, options({ policy: { objective: 'max_q', entropyCoef: 0.1 } }));
    expectGradientsMatch(gradientCheck(wm, up, makeBatch(), 0));
  });

  it('Q form, BMPC policy, distill KL(pi||expert) with an entropy bonus, encoder imagination, 3 rollouts', () => {
    const wm = makeModel({ valueForm: 'Q', policyForm: 'bmpc' });
    const up = new Updater(js, wm, options({
      numRollouts: 3, policy: { objective: 'distill', fixKlOrder: false, startEntropyCoeff: 0.3, endEntropyCoeff: 0.3 },
    }));
    expectGradientsMatch(gradientCheck(wm, up, makeBatch({ nanExpert: true }), 0.9));
  });

  it('Q form, TD-MPC2 policy, residual (TD-M(PC)^2): max_q plus the prior term towards the stored expert', () => {
    const wm = makeModel({ valueForm: 'Q', policyForm: 'tdmpc2', dropout: 0.1 });
    // A large prior_coef (it is multiplied by action_dim / 61) and threshold 0: the term is on and matters.
    const up = new Updater(js, wm, options({
      policy: { objective: 'residual', entropyCoef: 0.05, priorCoef: 40, priorScaleThreshold: 0, priorMinStd: 0.05 },
    }));
    expectGradientsMatch(gradientCheck(wm, up, makeBatch({ nanExpert: true }), 0));
    expect(up.info.pi_prior).toBeGreaterThan(0);
    expect(Number.isFinite(up.info.pi_loss)).toBe(true);
    // Below its Q-scale threshold the prior term is off (TD-M(PC)^2's scale_threshold).
    const off = new Updater(js, wm, options({ policy: { objective: 'residual', priorCoef: 40, priorScaleThreshold: 1e9 } }));
    off.computeGradients(makeBatch(), 0);
    expect(off.info.pi_prior).toBe(0);
  });

  it('V form, BMPC policy, distill KL(pi||expert) summed over action dims (bmpc-jax), dropout after the activation', () => {
    const wm = makeModel({ valueForm: 'V', policyForm: 'bmpc', dropout: 0.2, valueDropoutLayers: 'all', valueDropoutPosition: 'after_act' });
    const up = new Updater(js, wm, options({ policy: { objective: 'distill', fixKlOrder: false, klReduce: 'sum' } }));
    expectGradientsMatch(gradientCheck(wm, up, makeBatch(), 0.5));
    // On the same model and batch, the KL averaged over dims is 1/A of the summed one.
    const batch = makeBatch();
    const kl = (reduce: 'mean' | 'sum') => {
      const m = makeModel({ valueForm: 'V', policyForm: 'bmpc', dropout: 0.2, valueDropoutLayers: 'all', valueDropoutPosition: 'after_act' });
      m.params.set(wm.params);
      m.valueTarget.set(wm.valueTarget);
      const u = new Updater(js, m, options({ policy: { objective: 'distill', fixKlOrder: false, klReduce: reduce } }));
      u.computeGradients(batch, 0.5);
      return u.info.kl;
    };
    expect(kl('sum')).toBeCloseTo(kl('mean') * wm.cfg.actionDim, 9);
  });
});

describe('update() behaviour', () => {
  const snapshot = (a: F32): Float64Array => Float64Array.from(a as unknown as ArrayLike<number>);

  it('steps every group, moves the EMA target, reports finite scalars, and is deterministic', () => {
    const run = () => {
      dataCounter = 5000;
      const wm = makeModel({ valueForm: 'V', policyForm: 'bmpc', dropout: 0.1 }, 7);
      const up = new Updater(js, wm, options({ rhoNormalize: true }));
      const batch = makeBatch();
      const p0 = snapshot(wm.params);
      const t0 = snapshot(wm.valueTarget);
      const infos = [];
      for (let i = 0; i < 3; i++) infos.push({ ...up.update(batch, i / 3) });
      return { wm, up, p0, t0, infos };
    };
    const a = run();
    for (const seg of a.wm.trainableSegments()) {
      let moved = 0;
      for (let i = seg.offset; i < seg.offset + seg.length; i++) if (a.wm.params[i] !== a.p0[i]) moved++;
      expect(moved, seg.name).toBeGreaterThan(seg.length / 2);
    }
    expect(snapshot(a.wm.valueTarget)).not.toEqual(a.t0);
    for (const info of a.infos) {
      for (const [k, v] of Object.entries(info)) expect(Number.isFinite(v), k).toBe(true);
      expect(info.nonfinite_grads).toBe(0);
    }
    expect(a.infos[2].updates).toBe(3);
    expect(Array.from(a.up.optim.steps)).toEqual([3, 3, 3, 3, 3]);
    const b = run();
    expect(snapshot(b.wm.params)).toEqual(snapshot(a.wm.params));
    expect(b.infos).toEqual(a.infos);
  });

  it('grad_clip_scope=module clips each world-model module by its own norm (bmpc-jax), model by one joint norm', () => {
    const clipped = (scope: 'model' | 'module') => {
      dataCounter = 6000;
      const wm = makeModel({ valueForm: 'V', policyForm: 'bmpc' }, 9);
      const up = new Updater(js, wm, options({ gradClipNorm: 1e-3, gradClipScope: scope, lr: 1e-3 }));
      const p0 = snapshot(wm.params);
      const info = up.update(makeBatch());
      // With a tiny clip every group is clipped; Adam's first step moves each parameter by about lr
      // whatever the scale, so look at the first moment: m = (1 - beta1) · g · clipScale.
      const m = snapshot(up.optim.m);
      const norm = (seg: { offset: number; length: number }) => {
        let sq = 0;
        for (let i = seg.offset; i < seg.offset + seg.length; i++) sq += (m[i] / 0.1) ** 2;
        return Math.sqrt(sq);
      };
      expect(snapshot(wm.params)).not.toEqual(p0);
      return { info, norms: wm.trainableSegments().filter((s) => s.name !== 'policy').map((s) => norm(s)) };
    };
    const mod = clipped('module');
    for (const n of mod.norms) expect(n).toBeCloseTo(1e-3, 9); // each module clipped to the norm
    const joint = clipped('model');
    const total = Math.sqrt(joint.norms.reduce((s, n) => s + n * n, 0));
    expect(total).toBeCloseTo(1e-3, 9); // the modules together
    expect(mod.info.grad_norm).toBeCloseTo(joint.info.grad_norm, 9); // reported: the norm over all modules
  });

  it("runs the policy objective after the world model's step, on the rollout's pre-step latents (tdmpc2 order)", () => {
    const make = () => {
      dataCounter = 7000;
      const wm = makeModel({ valueForm: 'Q', policyForm: 'tdmpc2' }, 13);
      return { wm, up: new Updater(js, wm, options({ lr: 3e-2, policy: { objective: 'max_q' } })) };
    };
    const stepped = make();
    const batch = makeBatch();
    const info = { ...stepped.up.update(batch) };
    // Q(z, π(z)) with the stepped value ensemble, the latents of the un-stepped encoder and
    // dynamics (z depends on those two only) and the un-stepped policy: what update() must have seen.
    const expected = make();
    const value = expected.wm.seg.value;
    expected.wm.params.set(stepped.wm.params.subarray(value.offset, value.offset + value.length), value.offset);
    expected.up.evaluateLosses(batch);
    expect(info.pi_q).toBe(expected.up.info.pi_q);
    // ... which is not what the un-stepped value ensemble gives (the check can fail).
    const before = make();
    before.up.evaluateLosses(batch);
    expect(Math.abs(before.up.info.pi_q - info.pi_q)).toBeGreaterThan(1e-6);
  });

  it('repeated updates on one batch lower the world-model loss', () => {
    const wm = makeModel({ valueForm: 'Q', policyForm: 'tdmpc2' });
    const up = new Updater(js, wm, options({ lr: 3e-3, policy: { objective: 'max_q' } }));
    const batch = makeBatch();
    const first = up.update(batch).total_loss;
    let last = first;
    for (let i = 0; i < 40; i++) last = up.update(batch).total_loss;
    expect(last).toBeLessThan(0.7 * first);
  });

  it('respects value_update_freq and pi_update_freq', () => {
    const wm = makeModel({ valueForm: 'V' });
    const up = new Updater(js, wm, options({ valueUpdateFreq: 2, piUpdateFreq: 3 }));
    const batch = makeBatch();
    const seen: [number, number][] = [];
    for (let i = 0; i < 6; i++) {
      const valueBefore = snapshot(wm.params.subarray(wm.seg.value.offset, wm.seg.value.offset + wm.seg.value.length));
      const info = up.update(batch);
      const valueAfter = snapshot(wm.params.subarray(wm.seg.value.offset, wm.seg.value.offset + wm.seg.value.length));
      expect(valueAfter.some((v, j) => v !== valueBefore[j])).toBe(info.value_updated === 1);
      seen.push([info.value_updated, info.pi_updated]);
    }
    expect(seen).toEqual([[1, 1], [0, 0], [1, 0], [0, 1], [1, 0], [0, 0]]);
    const names = up.optim.groups.map((g) => g.name);
    expect(up.optim.steps[names.indexOf('value')]).toBe(3);
    expect(up.optim.steps[names.indexOf('policy')]).toBe(2);
    expect(up.optim.steps[names.indexOf('encoder')]).toBe(6);
  });

  it('zeroes and counts NaN gradients, and keeps parameters finite', () => {
    const wm = makeModel({ valueForm: 'V' });
    const up = new Updater(js, wm, options());
    const batch = makeBatch();
    batch.reward[2] = NaN; // a corrupted reward: its CE row is NaN, so are the reward head's grads
    const info = up.update(batch);
    const first = info.nonfinite_grads;
    expect(first).toBeGreaterThan(0);
    expect(info.nonfinite_grads_total).toBe(first);
    expect(Number.isNaN(info.reward_loss)).toBe(true);
    for (let i = 0; i < wm.store.trainableLength; i++) expect(Number.isFinite(wm.params[i])).toBe(true);
    // The process total keeps every update's count, so a log line shows faults of updates it did not print.
    batch.reward[2] = 0;
    const second = up.update(batch);
    expect(second.nonfinite_grads).toBe(0);
    expect(second.nonfinite_grads_total).toBe(first);
  });

  it('clips the world-model gradient to grad_clip_norm', () => {
    const wm = makeModel({ valueForm: 'V' });
    const up = new Updater(js, wm, options({ gradClipNorm: 1e-3, lr: 0.1, encLrScale: 1 }));
    const batch = makeBatch();
    const info = up.update(batch);
    expect(info.grad_norm).toBeGreaterThan(1e-3);
    // After one Adam step the first moment is (1-β1)·clipped gradient: its norm is 0.1·1e-3.
    let sq = 0;
    for (const gi of [0, 1, 2, 3]) {
      const g = up.optim.groups[gi];
      for (let i = g.offset; i < g.offset + g.length; i++) sq += up.optim.m[i] ** 2;
    }
    expect(Math.sqrt(sq)).toBeCloseTo(0.1 * 1e-3, 9);
  });

  it('rejects a batch of the wrong shape and unsupported dynamics heads', () => {
    const wm = makeModel({ valueForm: 'V' });
    const up = new Updater(js, wm, options());
    expect(() => up.update(allocateBatch(B + 1, H, O, A))).toThrow(/B=4 H=2 but the updater was built for B=3 H=2/);
    const wm2 = makeModel({ numDynamicsHeads: 2 });
    expect(() => new Updater(js, wm2, options())).toThrow(/num_dynamics_heads=2/);
  });
});

// ---------------------------------------------------------------------------------------------
// The update on the native engine (when the addon is built, as in tests/model-native.test.ts):
// gradients agree with the JS reference in float32 tolerance, and 1 vs 2 threads are bit-identical.
const nativeMod = (await import('../src/engine/native-engine.js').catch(() => null)) as
  | { loadNativeEngine(threads: number): import('../src/engine/engine.js').Engine | null; nativeLoadError(): string }
  | null;
const native1 = nativeMod?.loadNativeEngine(1) ?? null;
const native2 = nativeMod?.loadNativeEngine(2) ?? null;
afterAll(() => {
  native1?.dispose();
  native2?.dispose();
});
if (!native1) console.warn(`agent-update: native engine not built, native checks skipped: ${nativeMod?.nativeLoadError() ?? 'module missing'}`);

describe.skipIf(!native1 || !native2)('update on the native engine', () => {
  const build = (engine: import('../src/engine/engine.js').Engine, valueForm: 'V' | 'Q', objective: 'distill' | 'max_q') => {
    dataCounter = 9000;
    const cfg = makeWorldModelConfig({
      obsDim: O, actionDim: A, latentDim: 16, simnormDim: 8, encDim: 24, mlpDim: 32, numEncLayers: 2, numQ: 3,
      numBins: 11, vmin: -5, vmax: 5, dropout: 0.1, valueForm, policyForm: valueForm === 'V' ? 'bmpc' : 'tdmpc2',
    });
    const wm = new WorldModel(engine, cfg, { seed: 8 });
    for (let i = 0; i < wm.store.size; i++) wm.params[i] += u(-0.2, 0.2);
    wm.syncTarget();
    const up = new Updater(engine, wm, options({ batchSize: 16, horizon: 3, policy: { objective } }));
    const b = allocateBatch(16, 3, O, A);
    for (let i = 0; i < b.obs.length; i++) b.obs[i] = u(-1, 1);
    for (let i = 0; i < b.action.length; i++) b.action[i] = u(-0.9, 0.9);
    for (let i = 0; i < b.reward.length; i++) b.reward[i] = u(-3, 3);
    for (let i = 0; i < b.expertMean.length; i++) b.expertMean[i] = u(-0.7, 0.7);
    for (let i = 0; i < b.expertStd.length; i++) b.expertStd[i] = u(0.05, 0.6);
    return { wm, up, batch: b };
  };

  for (const [valueForm, objective] of [['V', 'distill'], ['Q', 'max_q']] as const) {
    it(`${valueForm} form, ${objective}: losses and gradients match the JS engine; 1 and 2 threads agree bit for bit`, () => {
      const ref = build(js, valueForm, objective);
      const nat = build(native2!, valueForm, objective);
      const a = ref.up.computeGradients(ref.batch, 0.5);
      const b = nat.up.computeGradients(nat.batch, 0.5);
      for (const k of ['consistency_loss', 'reward_loss', 'value_loss', 'pi_loss', 'td_target'] as const) {
        expect(Math.abs(b[k] - a[k]), k).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(a[k])));
      }
      let scale = 1e-3;
      for (let i = 0; i < ref.wm.store.size; i++) scale = Math.max(scale, Math.abs(ref.wm.grads[i]));
      for (let i = 0; i < ref.wm.store.size; i++) {
        if (Math.abs(nat.wm.grads[i] - ref.wm.grads[i]) > 2e-4 * scale) {
          expect.fail(`grad[${i}]: native ${nat.wm.grads[i]} vs js ${ref.wm.grads[i]} (max |grad| ${scale})`);
        }
      }
      const t1 = build(native1!, valueForm, objective);
      const t2 = build(native2!, valueForm, objective);
      for (let i = 0; i < 3; i++) {
        t1.up.update(t1.batch, i / 3);
        t2.up.update(t2.batch, i / 3);
      }
      expect(Array.from(t2.wm.params)).toEqual(Array.from(t1.wm.params));
      expect(Array.from(t2.wm.valueTarget)).toEqual(Array.from(t1.wm.valueTarget));
    });
  }
});
