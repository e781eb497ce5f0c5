// The MPPI planner (src/agent/mppi.ts) driven through the real world-model adapter
// (src/agent/planner-model.ts) on small world models with hand-set parameters:
//   - a "preference" model whose reward is a bump at a known action a* and whose value is 0:
//     the plan's mean converges to a* at every step;
//   - a "flat" model (reward = value = 0 exactly): every candidate ties, elites are the first E
//     candidates (the policy-prior sequences), so the refit mean/std are computable by hand from
//     the policy's own outputs.
import { describe, expect, it } from 'vitest';
import type { F32 } from '../src/engine/engine.js';
import { JsEngine } from '../src/engine/js-engine.js';
import { uniformAt } from '../src/engine/rng.js';
import { makeWorldModelConfig, type WorldModelConfigInput } from '../src/model/config.js';
import { WorldModel } from '../src/model/world-model.js';
import { MppiPlanner, type PlannerOptions } from '../src/agent/mppi.js';
import { WorldModelPlanner } from '../src/agent/planner-model.js';

const js = new JsEngine(1);
const O = 3;
const A = 2;
const NB = 11;
const A_STAR = [0.3, -0.5];

function model(over: Partial<WorldModelConfigInput> = {}, inferenceRows = 1024): WorldModel {
  const cfg = makeWorldModelConfig({
    obsDim: O, actionDim: A, latentDim: 8, simnormDim: 4, encDim: 8, mlpDim: 8, numEncLayers: 2, numQ: 2,
    numBins: NB, vmin: -5, vmax: 5, numRewardLayers: 1, valueForm: 'V', dropout: 0, ...over,
  });
  return new WorldModel(js, cfg, { seed: 4, inferenceRows });
}

function setTensor(wm: WorldModel, name: string, values: (i: number) => number): void {
  const t = wm.store.tensor(name);
  for (let i = 0; i < t.size; i++) wm.params[t.offset + i] = values(i);
}

/** Zero the output layers of the reward and value heads: both decode to symexp(mean bin) = 0. */
function flatten(wm: WorldModel): void {
  const zero = () => 0;
  setTensor(wm, 'reward.0.1.weight', zero);
  setTensor(wm, 'reward.0.1.bias', zero);
  for (let k = 0; k < wm.cfg.numQ; k++) {
    setTensor(wm, `value.${k}.2.weight`, zero);
    setTensor(wm, `value.${k}.2.bias`, zero);
  }
  wm.syncTarget();
}

/**
 * Reward(z, a) = decode(logits_k = -0.15·bin_k·u), u = Σ_j mish(d_j) + mish(-d_j), d_j ≈ 2·(a_j - a*_j):
 * hidden units with biases ±C keep LayerNorm's mean at 0 and its variance nearly constant
 * (rstd ≈ √(M / 2C²) = 0.2), so the ±(a_j - a*_j) units come out (gain 10) almost linearly;
 * u >= 0 is minimal (0) at a = a*, where the reward is maximal (0). Value = 0 (flat), so the return is Σ_t γ^t r(a_t), best at a_t = a*.
 */
function preferenceModel(): WorldModel {
  const wm = model();
  flatten(wm);
  const Z = wm.cfg.latentDim;
  const In = Z + A;
  const C = 10;
  const W = new Float64Array(8 * In);
  const b = new Float64Array(8);
  b[0] = C;
  b[1] = -C;
  for (let j = 0; j < A; j++) {
    W[(2 + 2 * j) * In + Z + j] = 1;
    b[2 + 2 * j] = -A_STAR[j];
    W[(3 + 2 * j) * In + Z + j] = -1;
    b[3 + 2 * j] = A_STAR[j];
  }
  setTensor(wm, 'reward.0.0.weight', (i) => W[i]);
  setTensor(wm, 'reward.0.0.bias', (i) => b[i]);
  setTensor(wm, 'reward.0.0.ln.weight', (i) => (i >= 2 && i < 2 + 2 * A ? 10 : 0));
  setTensor(wm, 'reward.0.0.ln.bias', () => 0);
  const width = 10 / (NB - 1);
  setTensor(wm, 'reward.0.1.weight', (i) => {
    const k = Math.floor(i / 8);
    const unit = i % 8;
    return unit >= 2 && unit < 2 + 2 * A ? -0.15 * (-5 + k * width) : 0;
  });
  return wm;
}

function opts(over: Partial<PlannerOptions> = {}): PlannerOptions {
  return {
    horizon: 3, iterations: 6, numSamples: 256, numElites: 32, numPiTrajs: 8, minStd: 0.05, maxStd: 2,
    temperature: 0.5, discount: 0.9, emaValue: false, qEstimate: 'mean', policySeedNoise: 0, expertMeanFromAction: false, evalElite: 'best', ...over,
  };
}

const obs = (n: number, salt = 0): F32 => Float32Array.from({ length: n * O }, (_, i) => 2 * uniformAt(31 + salt, i) - 1);
const arr = (a: F32): number[] => Array.from(a);

describe('planner over the world-model adapter', () => {
  it('the preference model: reward peaks at a*, and the plan converges to it', () => {
    const wm = preferenceModel();
    const pm = new WorldModelPlanner(wm);
    // The hand-set reward really peaks at a*.
    const z = new Float32Array(3 * 8);
    const a = Float32Array.from([A_STAR[0], A_STAR[1], A_STAR[0] + 0.2, A_STAR[1], A_STAR[0], A_STAR[1] - 0.4]);
    const r = new Float32Array(3);
    pm.reward(3, z, 0, a, 0, r, 0);
    expect(r[0]).toBeCloseTo(0, 5);
    expect(r[1]).toBeLessThan(r[0] - 0.01);
    expect(r[2]).toBeLessThan(r[1]);
    const planner = new MppiPlanner(js, pm, opts(), 1, 17);
    const out = planner.plan(1, obs(1), 0, true);
    for (let j = 0; j < A; j++) {
      expect(Math.abs(out.expertMean[j] - A_STAR[j])).toBeLessThan(0.08);
      expect(Math.abs(out.action[j] - A_STAR[j])).toBeLessThan(0.15);
    }
    // The whole warm-start plan (every step) sits at a* too.
    const prev = planner.warmStartState().prevMean;
    for (let t = 0; t < 3; t++) for (let j = 0; j < A; j++) expect(Math.abs(prev[t * A + j] - A_STAR[j])).toBeLessThan(0.1);
  });

  it('eval mode returns the first action of the highest-valued elite; training mode adds noise', () => {
    const wm = preferenceModel();
    const pm = new WorldModelPlanner(wm);
    const planner = new MppiPlanner(js, pm, opts({ iterations: 2 }), 1, 5);
    const out = planner.plan(1, obs(1), 0, true);
    // White-box: read the last iteration's candidates, values and elites.
    const inner = planner as unknown as { values: F32; eliteIdx: Int32Array; actions: F32 };
    let best = -Infinity;
    let bestRow = -1;
    for (let e = 0; e < 32; e++) {
      const row = inner.eliteIdx[e];
      if (inner.values[row] > best) { best = inner.values[row]; bestRow = row; }
    }
    for (let j = 0; j < A; j++) expect(out.action[j]).toBe(inner.actions[bestRow * A + j]);
    // No elite outside the top 32 values.
    const sorted = Array.from(inner.values.subarray(0, 264)).sort((x, y) => y - x);
    for (let e = 0; e < 32; e++) expect(inner.values[inner.eliteIdx[e]]).toBeGreaterThanOrEqual(sorted[31]);
    const train = new MppiPlanner(js, pm, opts({ iterations: 2 }), 1, 5).plan(1, obs(1), 0, false);
    expect(arr(train.action)).not.toEqual(arr(out.action));
  });

  it('flat model: elites are the policy-prior sequences, mean/std are their moments (by hand), std clamped', () => {
    const wm = model();
    flatten(wm);
    const pm = new WorldModelPlanner(wm);
    const Pi = 16;
    const o = obs(1);
    for (const [minStd, maxStd] of [[0, 2], [0.05, 0.1], [0.9, 2]]) {
      const planner = new MppiPlanner(js, pm, opts({ numPiTrajs: Pi, numElites: Pi, iterations: 1, minStd, maxStd }), 1, 23);
      const out = planner.plan(1, o, 0, false);
      // By hand: the planner's first draws are the policy actions at step 0 (counters from 0).
      const z0 = new Float32Array(8);
      wm.encode(1, o, z0);
      const zr = new Float32Array(Pi * 8);
      for (let j = 0; j < Pi; j++) zr.set(z0, j * 8);
      const a0 = new Float32Array(Pi * A);
      wm.pi(Pi, zr, null, null, a0, 23, 0);
      for (let k = 0; k < A; k++) {
        let mu = 0;
        for (let j = 0; j < Pi; j++) mu += a0[j * A + k] / Pi;
        let v = 0;
        for (let j = 0; j < Pi; j++) v += (a0[j * A + k] - mu) ** 2 / Pi;
        const sd = Math.min(maxStd, Math.max(minStd, Math.sqrt(v)));
        expect(out.expertMean[k]).toBeCloseTo(mu, 5);
        expect(out.expertStd[k]).toBeCloseTo(sd, 5);
        expect(out.expertStd[k]).toBeGreaterThanOrEqual(Math.fround(minStd));
        expect(out.expertStd[k]).toBeLessThanOrEqual(Math.fround(maxStd));
      }
    }
  });

  it('expert mean can be the chosen elite action (before exploration noise) instead of the planner mean', () => {
    const wm = preferenceModel();
    const greedy = new MppiPlanner(js, new WorldModelPlanner(wm), opts({ expertMeanFromAction: true }), 1, 3).plan(1, obs(1), 0, true);
    expect(arr(greedy.expertMean)).toEqual(arr(greedy.action)); // no noise in eval mode
    const planner = new MppiPlanner(js, new WorldModelPlanner(wm), opts({ expertMeanFromAction: true }), 1, 3);
    const out = planner.plan(1, obs(1), 0, false);
    expect(arr(out.expertMean)).not.toEqual(arr(out.action)); // the action carries the noise, the expert not
    const inner = planner as unknown as { actions: F32 };
    let found = false; // the expert mean is one candidate's first action
    for (let row = 0; row < 264 && !found; row++) {
      found = arr(out.expertMean).every((v, k) => v === inner.actions[row * A + k]);
    }
    expect(found).toBe(true);
  });

  it('episodic models: a rollout predicted terminal earns no later reward and no bootstrap (tdmpc2 episodic)', () => {
    // Non-zero rewards and values (their output layers are zero-initialized), the same in each model.
    const unflatten = (wm: WorldModel) => {
      for (const name of ['reward.0.1.weight', 'reward.0.1.bias', ...Array.from({ length: wm.cfg.numQ }, (_, k) => [`value.${k}.2.weight`, `value.${k}.2.bias`]).flat()]) {
        setTensor(wm, name, (i) => uniformAt(name.length * 7, i) - 0.5);
      }
      wm.syncTarget();
      return wm;
    };
    const plain = unflatten(model());
    const run = (wm: WorldModel) => {
      const planner = new MppiPlanner(js, new WorldModelPlanner(wm), opts({ iterations: 1, numPiTrajs: 0, numSamples: 16, numElites: 4 }), 1, 5);
      planner.plan(1, obs(1), 0, true);
      const inner = planner as unknown as { values: F32; actions: F32 };
      return { values: Array.from(inner.values.subarray(0, 16)), actions: inner.actions };
    };
    const withHead = (bias: number) => {
      const wm = unflatten(model({ termination: true })); // same other parameters: the head is laid out last
      setTensor(wm, 'termination.2.weight', () => 0);
      setTensor(wm, 'termination.2.bias', () => bias);
      return wm;
    };
    const base = run(plain);
    expect(run(withHead(-20)).values).toEqual(base.values); // never terminal: unchanged
    // Always terminal after the first step: each candidate is worth its first reward only.
    const always = run(withHead(20));
    const wm = plain;
    const z0 = new Float32Array(wm.cfg.latentDim);
    wm.encode(1, obs(1), z0);
    const zRep = new Float32Array(16 * wm.cfg.latentDim);
    for (let r = 0; r < 16; r++) zRep.set(z0, r * wm.cfg.latentDim);
    const r0 = new Float32Array(16);
    wm.reward(16, zRep, always.actions.subarray(0, 16 * A), r0);
    for (let r = 0; r < 16; r++) expect(always.values[r]).toBeCloseTo(r0[r], 5);
    expect(always.values).not.toEqual(base.values);
  });

  it('eval elite: tdmpc2 draws by the elite weights (no noise), BMPC takes the best', () => {
    const wm = preferenceModel();
    const pm = new WorldModelPlanner(wm);
    const draws = new Set<string>();
    const planner = new MppiPlanner(js, pm, opts({ iterations: 2, evalElite: 'sample', temperature: 0.01 }), 1, 5);
    for (let i = 0; i < 20; i++) {
      planner.resetAllWarmStarts();
      draws.add(arr(planner.plan(1, obs(1), 0, true).action).join(','));
    }
    expect(draws.size).toBeGreaterThan(1); // low temperature: nearly uniform over the elites
    const best = new MppiPlanner(js, pm, opts({ iterations: 2, evalElite: 'best', temperature: 0.01 }), 1, 5);
    const firsts = new Set<string>();
    for (let i = 0; i < 5; i++) {
      best.resetAllWarmStarts();
      best.rng.counter = 0;
      firsts.add(arr(best.plan(1, obs(1), 0, true).action).join(','));
    }
    expect(firsts.size).toBe(1);
  });

  it('warm start: the next plan starts from the previous mean shifted by one step', () => {
    const wm = model();
    flatten(wm);
    // One iteration, one elite, a tiny fixed std and no policy prior: the returned mean is the
    // initial mean (up to 1e-4 of noise), which exposes the warm start.
    const planner = new MppiPlanner(js, new WorldModelPlanner(wm), opts({
      iterations: 1, numElites: 1, numPiTrajs: 0, numSamples: 8, minStd: 1e-4, maxStd: 1e-4,
    }), 1, 9);
    const ws = planner.warmStartState();
    const prev = [0.1, -0.1, 0.4, 0.5, -0.6, 0.7]; // [H=3, A=2]
    ws.prevMean.set(prev);
    ws.hasPrev[0] = 1;
    const out = planner.plan(1, obs(1), 0, true);
    expect(out.expertMean[0]).toBeCloseTo(0.4, 3);
    expect(out.expertMean[1]).toBeCloseTo(0.5, 3);
    // The stored plan is shifted again, with zeros at the end.
    const next = Array.from(ws.prevMean);
    for (const [i, v] of [[0, 0.4], [1, 0.5], [2, -0.6], [3, 0.7], [4, 0], [5, 0]]) expect(next[i]).toBeCloseTo(v, 3);
    // useWarmStart = false ignores (and keeps) the stored plan.
    const cold = planner.plan(1, obs(1), 0, true, false);
    expect(cold.expertMean[0]).toBeCloseTo(0, 3);
    expect(Array.from(ws.prevMean)).toEqual(next);
    // After a reset the planner starts from zero.
    planner.resetWarmStart(0);
    expect(planner.plan(1, obs(1), 0, true).expertMean[0]).toBeCloseTo(0, 3);
  });

  it('batched planning: observation b does not depend on the others (same B, same seed)', () => {
    // Exact equality with B single plans does not hold: the planner draws one noise block laid out
    // [H, B, S, A] per iteration, so observation b's noise counters depend on B. What holds is row
    // independence: with the same B and seed, b's result depends only on its own observation.
    const wm = preferenceModel();
    const pm = new WorldModelPlanner(wm);
    const o1 = obs(1, 1);
    const pair = (other: F32) => {
      const both = new Float32Array(2 * O);
      both.set(o1, 0);
      both.set(other, O);
      const out = new MppiPlanner(js, pm, opts(), 2, 21).plan(2, both, 0, false);
      return { action: arr(out.action).slice(0, A), mean: arr(out.expertMean).slice(0, A), std: arr(out.expertStd).slice(0, A) };
    };
    const a = pair(obs(1, 2));
    const b = pair(obs(1, 3));
    expect(b).toEqual(a);
  });

  it('an observation with no finite candidate (NaN latent) acts from its prior, finite, and leaves the others alone', () => {
    // A NaN observation row makes that row's latent, policy-prior actions and every score NaN; the
    // planner counts them and, having nothing to refit from, acts from the distribution it started
    // with (0 and max_std on a cold start) instead of reading the NaN actions of an elite.
    const wm = preferenceModel();
    const pm = new WorldModelPlanner(wm);
    const o1 = obs(1, 1);
    const o = opts({ iterations: 3 });
    const pair = (other: F32, evalMode: boolean) => {
      const both = new Float32Array(2 * O);
      both.set(o1, 0);
      both.set(other, O);
      const planner = new MppiPlanner(js, pm, o, 2, 21);
      const out = planner.plan(2, both, 0, evalMode);
      return { planner, action: arr(out.action), mean: arr(out.expertMean), std: arr(out.expertStd), value: arr(out.eliteValue) };
    };
    const nanRow = Float32Array.from({ length: O }, () => Number.NaN);
    const sick = pair(nanRow, true);
    const healthy = pair(obs(1, 2), true);
    expect(sick.planner.nonFiniteScores).toBe(o.numPiTrajs + o.iterations * o.numSamples); // prior rows scored once
    expect(healthy.planner.nonFiniteScores).toBe(0);
    // Observation 0 plans exactly as beside a finite neighbour (rows are independent).
    expect(sick.action.slice(0, A)).toEqual(healthy.action.slice(0, A));
    expect(sick.mean.slice(0, A)).toEqual(healthy.mean.slice(0, A));
    // Observation 1: the cold-start prior, in eval without noise.
    expect(sick.action.slice(A)).toEqual([0, 0]);
    expect(sick.mean.slice(A)).toEqual([0, 0]);
    expect(sick.std.slice(A)).toEqual([o.maxStd, o.maxStd]);
    expect(sick.value[0]).toBe(healthy.value[0]);
    // Acting (with noise) stays finite and in range, and the warm start it stores stays finite.
    const acting = pair(nanRow, false);
    for (const v of acting.action) { expect(Number.isFinite(v)).toBe(true); expect(Math.abs(v)).toBeLessThanOrEqual(1); }
    expect(Array.from(acting.planner.warmStartState().prevMean).every(Number.isFinite)).toBe(true);
  });

  it('Q models: the adapter passes actions to Q and the planner scores with Q(z_H, pi(z_H))', () => {
    const wm = model({ valueForm: 'Q' });
    const pm = new WorldModelPlanner(wm);
    expect(pm.valueForm).toBe('Q');
    const z = Float32Array.from({ length: 4 * 8 }, (_, i) => uniformAt(7, i));
    const a1 = Float32Array.from({ length: 4 * A }, (_, i) => uniformAt(8, i) * 2 - 1);
    const a2 = Float32Array.from({ length: 4 * A }, (_, i) => uniformAt(9, i) * 2 - 1);
    const v1 = new Float32Array(4);
    const v2 = new Float32Array(4);
    for (let i = 0; i < wm.store.size; i++) wm.params[i] += 0.3 * (uniformAt(10, i) - 0.5);
    pm.value(4, z, 0, a1, 0, v1, 0, false, null);
    pm.value(4, z, 0, a2, 0, v2, 0, false, null);
    expect(arr(v1)).not.toEqual(arr(v2));
    const out = new MppiPlanner(js, pm, opts({ numSamples: 64, numElites: 8 }), 1, 2).plan(1, obs(1), 0, true);
    for (const x of arr(out.action)) expect(Math.abs(x)).toBeLessThanOrEqual(1);
  });

  it("Q models, q_estimate avg2 (tdmpc2's Q(..., 'avg')): 2 random heads per iteration, the policy-prior rows re-scored each time", () => {
    class Recording extends WorldModelPlanner {
      calls: { n: number; heads: number[] | null }[] = [];
      override value(
        R: number, z: F32, zOff: number, a: F32 | null, aOff: number, out: F32, outOff: number, target: boolean,
        heads: readonly number[] | null,
      ): void {
        this.calls.push({ n: R, heads: heads && [...heads] });
        super.value(R, z, zOff, a, aOff, out, outOff, target, heads);
      }
    }
    const plan = (numQ: number, qEstimate: 'avg2' | 'mean') => {
      const wm = model({ valueForm: 'Q', numQ });
      for (let i = 0; i < wm.store.size; i++) wm.params[i] += 0.3 * (uniformAt(12, i) - 0.5);
      const pm = new Recording(wm);
      const out = new MppiPlanner(js, pm, opts({ numSamples: 64, numElites: 8, iterations: 6, qEstimate }), 1, 3).plan(1, obs(1), 0, false);
      return { wm, pm, action: arr(out.action), expert: arr(out.expertMean) };
    };
    const P = 64 + 8;
    // 5 heads: one distinct pair per iteration for all P rows (the 8 policy-prior rows included).
    const five = plan(5, 'avg2');
    expect(five.pm.calls.map((c) => c.n)).toEqual(Array(6).fill(P));
    for (const { heads } of five.pm.calls) {
      expect(heads).toHaveLength(2);
      const [j, l] = heads!;
      expect(j).not.toBe(l);
      for (const k of [j, l]) expect(k >= 0 && k < 5).toBe(true);
    }
    expect(new Set(five.pm.calls.map((c) => c.heads!.join())).size).toBeGreaterThan(1);
    // The adapter's value over a pair is the mean of those two heads' decoded values.
    const R = 4;
    const z = Float32Array.from({ length: R * 8 }, (_, i) => uniformAt(13, i));
    const a = Float32Array.from({ length: R * A }, (_, i) => 2 * uniformAt(14, i) - 1);
    const all = new Float32Array(5 * R);
    five.wm.value(R, z, a, all, { reduce: 'all' });
    const pair = new Float32Array(R);
    five.pm.value(R, z, 0, a, 0, pair, 0, false, [4, 1]);
    for (let r = 0; r < R; r++) expect(pair[r]).toBeCloseTo((all[4 * R + r] + all[1 * R + r]) / 2, 5);
    // mean: every head, policy-prior scores cached after the first iteration.
    const mean = plan(5, 'mean');
    expect(mean.pm.calls.map((c) => c.n)).toEqual([P, ...Array(5).fill(P - 8)]);
    expect(mean.pm.calls.every((c) => c.heads === null)).toBe(true);
    // 2 heads: the average of 2 is the mean of all, drawn or not; no draw, the same plan bit for bit.
    const two = plan(2, 'avg2');
    expect(two.pm.calls.every((c) => c.heads === null)).toBe(true);
    const twoMean = plan(2, 'mean');
    expect(two.action).toEqual(twoMean.action);
    expect(two.expert).toEqual(twoMean.expert);
  });

  it('chunks calls larger than the model inference contexts without changing results', () => {
    const big = model({}, 1024);
    const small = model({}, 7); // same seed: same parameters
    for (let i = 0; i < big.store.size; i++) {
      big.params[i] += 0.3 * (uniformAt(11, i) - 0.5);
      small.params[i] = big.params[i];
    }
    big.syncTarget();
    small.syncTarget();
    const pb = new WorldModelPlanner(big);
    const ps = new WorldModelPlanner(small);
    const R = 20;
    const o = obs(R);
    const zb = new Float32Array(R * 8);
    const zs = new Float32Array(R * 8);
    pb.encode(R, o, 0, zb, 0);
    ps.encode(R, o, 0, zs, 0);
    expect(arr(zs)).toEqual(arr(zb));
    const ab = new Float32Array(R * A);
    const as = new Float32Array(R * A);
    pb.policyAction(R, zb, 0, ab, 0, 5, 100, true);
    ps.policyAction(R, zs, 0, as, 0, 5, 100, true);
    expect(arr(as)).toEqual(arr(ab));
    const nb = new Float32Array(R * 8);
    const ns = new Float32Array(R * 8);
    pb.next(R, zb, 0, ab, 0, nb, 0);
    ps.next(R, zs, 0, as, 0, ns, 0);
    expect(arr(ns)).toEqual(arr(nb));
    const rb = new Float32Array(R);
    const rs = new Float32Array(R);
    pb.reward(R, zb, 0, ab, 0, rb, 0);
    ps.reward(R, zs, 0, as, 0, rs, 0);
    expect(arr(rs)).toEqual(arr(rb));
    pb.value(R, nb, 0, null, 0, rb, 0, true, null);
    ps.value(R, ns, 0, null, 0, rs, 0, true, null);
    expect(arr(rs)).toEqual(arr(rb));
    // A whole plan of 2 observations (2·(256+8) = 528 rows per call) through 7-row chunks.
    const po = opts({ iterations: 2 });
    const outB = new MppiPlanner(js, pb, po, 2, 1).plan(2, obs(2), 0, false);
    const outS = new MppiPlanner(js, ps, po, 2, 1).plan(2, obs(2), 0, false);
    expect(arr(outS.action)).toEqual(arr(outB.action));
  });
});
