// The world model on the native engine vs the JS reference engine: same parameters and inputs give
// the same forward outputs and gradients within float32 tolerance; 1 and 2 native threads agree
// bit for bit. Skipped (with the reason printed) only when the native addon is not built.
import { describe, expect, it } from 'vitest';
import type { Engine, F32 } from '../src/engine/engine.js';
import { JsEngine } from '../src/engine/js-engine.js';
import { makeWorldModelConfig, type WorldModelConfigInput } from '../src/model/config.js';
import { WorldModelPass } from '../src/model/pass.js';
import { WorldModel } from '../src/model/world-model.js';
import { randn, randu } from './nn-helpers.js';

async function loadNative(threads: number): Promise<{ engine: Engine | null; reason: string }> {
  try {
    const mod = (await import('../src/engine/native-engine.js')) as {
      loadNativeEngine(threads: number): Engine | null;
      nativeLoadError(): string;
    };
    const engine = mod.loadNativeEngine(threads);
    return { engine, reason: engine ? '' : mod.nativeLoadError() };
  } catch (err) {
    return { engine: null, reason: `src/engine/native-engine.ts not loadable: ${(err as Error).message}` };
  }
}

const native1 = await loadNative(1);
const native2 = await loadNative(2);
if (!native1.engine) console.warn(`model-native.test: native engine not built, skipping: ${native1.reason}`);

const base: WorldModelConfigInput = {
  obsDim: 7, actionDim: 3, latentDim: 16, simnormDim: 8, encDim: 20, mlpDim: 40, numEncLayers: 2, numQ: 3, numBins: 11, vmin: -5, vmax: 5,
  dropout: 0.1, termination: true,
};

/** max |a - b| / max(1, max |b|) over n elements. */
function relDiff(n: number, a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let s = 1;
  for (let i = 0; i < n; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

interface Run {
  wm: WorldModel;
  pass: WorldModelPass;
}

function run(engine: Engine, extra: Partial<WorldModelConfigInput>, params: F32 | null): Run {
  const cfg = makeWorldModelConfig({ ...base, ...extra });
  const wm = new WorldModel(engine, cfg, { seed: 2 });
  if (params) wm.params.set(params);
  else engine.randomNormal(wm.store.size, 55, 0, 0, 0.3, wm.params, 0);
  const B = 9;
  const H = 3;
  const pass = new WorldModelPass(wm, B, H);
  const obs = randn(B * cfg.obsDim, 1, 1, 'f32');
  const actions = Float32Array.from(randu(H * B * cfg.actionDim, 2, -1, 1));
  for (const [i, a] of [pass.dz, pass.dRewardLogits, pass.dValueLogits, pass.dTermLogits, ...Object.values(pass.policyGrads)].entries()) {
    if (a) a.set(randn(a.length, 10 + i));
  }
  wm.zeroGrad();
  pass.forward(obs, actions, { train: true, seed: 7, counter: 100, policyCounter: 5000 });
  pass.backward();
  return { wm, pass };
}

const variants: [string, Partial<WorldModelConfigInput>][] = [
  ['V(s) + bmpc policy', { valueForm: 'V', policyForm: 'bmpc' }],
  ['Q(s,a) + tdmpc2 policy + dynamics priors', { valueForm: 'Q', policyForm: 'tdmpc2', numDynamicsHeads: 2, priorScale: 0.3, numRewardHeads: 2 }],
];

describe.skipIf(!native1.engine)('world model: native engine vs JS engine', () => {
  const js = new JsEngine(1);
  for (const [name, extra] of variants) {
    it(`${name}: forward outputs and every gradient agree within float32 tolerance`, () => {
      const ref = run(js, extra, null);
      const nat = run(native2.engine ?? native1.engine!, extra, ref.wm.params);
      const p = nat.pass;
      const q = ref.pass;
      const tol = 2e-4;
      const H1B = (p.H + 1) * p.B;
      const A = ref.wm.cfg.actionDim;
      const diffs: Record<string, number> = {
        z: relDiff(p.z.length, p.z, q.z),
        rewardLogits: relDiff(p.rewardLogits.length, p.rewardLogits, q.rewardLogits),
        valueLogits: relDiff(p.valueLogits.length, p.valueLogits, q.valueLogits),
        termLogits: relDiff(p.termLogits!.length, p.termLogits!, q.termLogits!),
        'policy.mean': relDiff(H1B * A, p.pol.head.mean, q.pol.head.mean),
        'policy.action': relDiff(H1B * A, p.pol.head.action, q.pol.head.action),
        'policy.logProb': relDiff(H1B, p.pol.head.logProb, q.pol.head.logProb),
      };
      for (const seg of ref.wm.store.segments) {
        diffs[`grad.${seg.name}`] = relDiff(seg.length, nat.wm.grads.subarray(seg.offset), ref.wm.grads.subarray(seg.offset));
      }
      console.log(`native vs js (${name}): max relative diff per tensor`, JSON.stringify(diffs));
      for (const [k, d] of Object.entries(diffs)) expect(d, k).toBeLessThan(tol);
    });
  }

  it('the deterministic initialization matches the JS engine', () => {
    const cfg = makeWorldModelConfig({ ...base });
    const a = new WorldModel(js, cfg, { seed: 3 });
    const b = new WorldModel(native1.engine!, cfg, { seed: 3 });
    expect(relDiff(a.store.size, b.params, a.params)).toBeLessThan(1e-6);
  });

  it.skipIf(!native2.engine)('1 and 2 native threads give bit-identical outputs and gradients', () => {
    const [name, extra] = variants[1];
    const one = run(native1.engine!, extra, null);
    const two = run(native2.engine!, extra, one.wm.params);
    expect(two.pass.valueLogits, name).toEqual(one.pass.valueLogits);
    expect(two.wm.grads).toEqual(one.wm.grads);
  });
});
