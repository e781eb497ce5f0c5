// World-model config: presets, defaults, validation messages, and parameter counts (closed form vs
// an independent per-layer count vs the size table the modules actually build).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { JsEngine } from '../src/engine/js-engine.js';
import { ConfigError } from '../src/errors.js';
import { ParamStore } from '../src/nn/params.js';
import {
  countParams, makeWorldModelConfig, MODEL_SIZE_NAMES, modelSizePreset, presetParamCounts, type WorldModelConfig,
} from '../src/model/config.js';
import { WorldModel } from '../src/model/world-model.js';

const e = new JsEngine(1);

/** Independent count: list every layer as [in, out, normed] and add up W, b (+ gamma, beta). */
function independentCount(c: WorldModelConfig): number {
  const layers: [number, number, boolean][] = [];
  const chain = (dims: number[], lastNormed: boolean, times: number): void => {
    for (let t = 0; t < times; t++) {
      for (let i = 0; i + 1 < dims.length; i++) layers.push([dims[i], dims[i + 1], i + 2 < dims.length || lastNormed]);
    }
  };
  const Z = c.latentDim;
  const A = c.actionDim;
  const M = c.mlpDim;
  const encHidden = c.numEncLayers > 1 ? c.numEncLayers - 1 : 1;
  chain([c.obsDim, ...Array<number>(encHidden).fill(c.encDim), Z], true, 1);
  chain([Z + A, M, M, Z], true, c.numDynamicsHeads);
  chain([Z + A, ...Array<number>(c.numRewardLayers).fill(M), c.numBins], false, c.numRewardHeads);
  chain([c.valueForm === 'Q' ? Z + A : Z, M, M, c.numBins], false, c.numQ);
  chain([Z, M, M, 2 * A], false, 1);
  if (c.termination) chain([Z, M, M, 1], false, 1);
  return layers.reduce((n, [i, o, normed]) => n + i * o + o + (normed ? 2 * o : 0), 0);
}

describe('world model config', () => {
  it('presets are tdmpc2 model sizes; unknown ones throw naming the valid sizes', () => {
    expect(MODEL_SIZE_NAMES).toEqual([1, 5, 19, 48, 317]);
    expect(modelSizePreset(1)).toEqual({ encDim: 256, mlpDim: 384, latentDim: 128, numEncLayers: 2, numQ: 2 });
    expect(modelSizePreset('19')).toEqual({ encDim: 1024, mlpDim: 1024, latentDim: 768, numEncLayers: 3, numQ: 5 });
    expect(modelSizePreset('317M')).toEqual({ encDim: 4096, mlpDim: 4096, latentDim: 1376, numEncLayers: 5, numQ: 8 });
    expect(() => modelSizePreset(7)).toThrow(ConfigError);
    expect(() => modelSizePreset(7)).toThrow('valid sizes: 1, 5, 19, 48, 317');
    expect(() => modelSizePreset('0x5')).toThrow(/model_size '0x5' is not a preset/);
    expect(() => modelSizePreset('5e0')).toThrow(ConfigError);
    expect(() => makeWorldModelConfig({ obsDim: 4, actionDim: 2, modelSize: 'huge' })).toThrow(/model_size 'huge' is not a preset/);
  });

  it('fills defaults and derives the log_std range from the policy form', () => {
    const t = makeWorldModelConfig({ obsDim: 24, actionDim: 6 });
    expect(t).toMatchObject({ latentDim: 512, mlpDim: 512, encDim: 256, numQ: 5, numBins: 101, vmin: -10, vmax: 10, simnormDim: 8,
      dropout: 0.01, valueForm: 'Q', policyForm: 'tdmpc2', logStdMin: -10, logStdMax: 2, numRewardHeads: 1, numRewardLayers: 2,
      numDynamicsHeads: 1, priorScale: 0, termination: false });
    const b = makeWorldModelConfig({ obsDim: 24, actionDim: 6, policyForm: 'bmpc', valueForm: 'V', modelSize: 1, latentDim: 64 });
    expect([b.logStdMin, b.logStdMax, b.latentDim, b.mlpDim]).toEqual([-5, 1, 64, 384]);
  });

  it('rejects bad fields with messages naming the field', () => {
    const base = { obsDim: 24, actionDim: 6, modelSize: 1 };
    expect(() => makeWorldModelConfig({ ...base, obsDim: 0 })).toThrow('world model obsDim must be a positive integer, got 0');
    expect(() => makeWorldModelConfig({ ...base, latentDim: 100 })).toThrow('latentDim 100 must be a multiple of simnormDim 8');
    expect(() => makeWorldModelConfig({ ...base, valueForm: 'X' as 'V' })).toThrow("world model valueForm must be one of 'V', 'Q', got 'X'");
    expect(() => makeWorldModelConfig({ ...base, policyForm: 'sac' as 'bmpc' })).toThrow(/policyForm must be one of/);
    expect(() => makeWorldModelConfig({ ...base, dropout: 1 })).toThrow(/dropout must be in \[0, 1\)/);
    expect(() => makeWorldModelConfig({ ...base, logStdMin: 3 })).toThrow(/logStdMin < logStdMax/);
    expect(() => makeWorldModelConfig({ ...base, numBins: 1 })).toThrow(/numBins/);
    expect(() => makeWorldModelConfig({ ...base, vmin: 10 })).toThrow(/vmin < vmax/);
    expect(() => makeWorldModelConfig({ ...base, vmax: Infinity })).toThrow(/finite vmin < vmax/);
    expect(() => makeWorldModelConfig({ ...base, logStdMax: Infinity })).toThrow(/finite logStdMin < logStdMax/);
    expect(() => makeWorldModelConfig({ ...base, priorScale: -1 })).toThrow(/priorScale/);
    expect(() => makeWorldModelConfig({ ...base, numQ: 1.5 })).toThrow(/numQ must be a positive integer/);
  });

  it('parameter counts: closed form = independent count = the modules\' size table, for every preset', () => {
    const counts = presetParamCounts(24, 6);
    const countsV = presetParamCounts(24, 6, { valueForm: 'V', policyForm: 'bmpc' });
    expect(counts).toEqual({ 1: 1_214_651, 5: 4_960_618, 19: 18_062_442, 48: 47_208_298, 317: 312_595_417 });
    expect(countsV).toEqual({ 1: 1_210_043, 5: 4_945_258, 19: 18_031_722, 48: 47_154_538, 317: 312_398_809 });
    // README's "Model sizes" table reports these counts and the presets' dims.
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const size of MODEL_SIZE_NAMES) {
      const p = modelSizePreset(size);
      const row = [size, p.encDim, p.mlpDim, p.latentDim, p.numEncLayers, p.numQ, counts[size].toLocaleString('en-US'),
        countsV[size].toLocaleString('en-US')].join(' | ');
      expect(readme).toContain(`| ${row} |`);
    }
    // By hand, preset 1 (Q): encoder 40064 + dynamics 250752 + reward 240101 + 2 x Q 240101 + policy 203532.
    expect(40064 + 250752 + 240101 + 2 * 240101 + 203532).toBe(counts[1]);
    for (const size of MODEL_SIZE_NAMES) {
      for (const extra of [{}, { valueForm: 'V' as const }, { termination: true, numRewardHeads: 2, numDynamicsHeads: 3 }]) {
        const cfg = makeWorldModelConfig({ obsDim: 24, actionDim: 6, modelSize: size, ...extra });
        const n = countParams(cfg);
        expect(n.trainable).toBe(independentCount(cfg));
        const layout: ParamStore = WorldModel.layout(e, cfg);
        expect(layout.size).toBe(n.total);
        expect(layout.trainableLength).toBe(n.trainable);
        expect(layout.segment('value').length).toBe(n.value);
        expect(layout.segment('encoder').length).toBe(n.encoder);
      }
    }
    const withPrior = makeWorldModelConfig({ obsDim: 24, actionDim: 6, modelSize: 1, numDynamicsHeads: 2, priorScale: 0.1 });
    const np = countParams(withPrior);
    // Prior: 2 heads x (NL(134->24), NL(24->24), Lin(24->128)).
    expect(np.prior).toBe(2 * (134 * 24 + 3 * 24 + 24 * 24 + 3 * 24 + 24 * 128 + 128));
    const layout = WorldModel.layout(e, withPrior);
    expect(layout.size).toBe(np.total);
    expect(layout.trainableLength).toBe(np.trainable);
    expect(layout.segment('dynamics_prior')).toMatchObject({ offset: np.trainable, length: np.prior, frozen: true });
  });

  it('reproduces the PyTorch anchor\'s parameter count (torch_tdmpc2_cpu.py, 5 V heads)', () => {
    const anchor = (size: 'S' | 'M'): number => countParams(makeWorldModelConfig({
      obsDim: 24, actionDim: 6, encDim: 256, mlpDim: size === 'S' ? 384 : 512, latentDim: size === 'S' ? 128 : 512,
      numEncLayers: 2, numQ: 5, valueForm: 'V',
    })).trainable;
    // S by hand: enc 40064 + dyn 250752 + rew 240101 + pi 203532 + 5 V heads x 237797.
    expect(anchor('S')).toBe(40064 + 250752 + 240101 + 203532 + 5 * 237797);
    expect(anchor('S')).toBe(1_923_434);
    expect(anchor('M')).toBe(4_945_258);
  });
});
