// `tdmpc bench update` (options: USAGE)
// One training update (src/agent/update.ts), the UPDATE workload of the PyTorch anchor
// (shared/anchors/torch_tdmpc2_cpu.py): batch 256, horizon 3, BMPC-style V-form model with 5 value
// heads and no dropout; consistency, reward CE, value CE against the 1-step TD target imagined with
// the policy from the (detached) rollout latents and bootstrapped by the EMA value copy,
// KL(expert || policy) on the H+1 detached latents, Adam at lr 3e-4, clip 20, EMA tau 0.01.
// Median of --iters (20) timed updates after 3 warm-ups, as the anchor does.
import { positiveFlag, threadsFlag, type BenchArgs } from './index.js';
import type { Engine } from '../engine/engine.js';
import { createEngine } from '../engine/index.js';
import { normalAt, uniformAt } from '../engine/rng.js';
import { WorldModel } from '../model/world-model.js';
import type { WorldModelConfig } from '../model/config.js';
import { allocateBatch } from '../replay/replay-buffer.js';
import { Updater, type UpdateOptions } from '../agent/update.js';
import { anchorModelConfig, parseSize, type BenchSize } from './plan.js';
import { addProfile, addTorchComparison, runTorchAnchor, timeMedian } from './torch-anchor.js';

export const USAGE = 'tdmpc bench update [--size S|M] [--vs-torch] [--iters N] [--threads T] [--profile] [--json]';

const B = 256;
const H = 3;

export const UPDATE_OPTIONS: UpdateOptions = {
  batchSize: B, horizon: H, discount: 0.99, seed: 1, rho: 0.5, rhoNormalize: false,
  consistencyCoef: 20, rewardCoef: 0.1, valueCoef: 0.1, terminationCoef: 1, numRollouts: 1,
  imagineInitialSource: 'rollout', qTarget: 'min2',
  policy: {
    objective: 'distill', qEstimate: 'mean', entropyCoef: 0, qScaleTau: 0.01, fixKlOrder: true, klReduce: 'mean', klScaleTau: 0.01,
    expertStdScale: 1, expertStdMin: 1e-3, startEntropyCoeff: 0, endEntropyCoeff: 0,
  },
  lr: 3e-4, encLrScale: 1, piLrScale: 1, optimizer: 'adam', weightDecay: 0, gradClipNorm: 20, tau: 0.01,
  valueUpdateFreq: 1, piUpdateFreq: 1,
};

/** Approximate FLOPs of one update: 2 per MAC forward, twice that backward for trained passes. */
export function updateFlops(cfg: WorldModelConfig): number {
  const { obsDim: O, actionDim: A, latentDim: Z, encDim: E, mlpDim: M, numBins: NB, numQ: K } = cfg;
  const N = H * B;
  const N1 = (H + 1) * B;
  const mlp = (rows: number, dims: number[]) => {
    let s = 0;
    for (let i = 0; i + 1 < dims.length; i++) s += dims[i] * dims[i + 1];
    return 2 * rows * s;
  };
  const enc = (r: number) => mlp(r, [O, E, Z]);
  const rew = (r: number) => mlp(r, [Z + A, M, M, NB]);
  const dyn = (r: number) => mlp(r, [Z + A, M, M, Z]);
  const val = (r: number) => K * mlp(r, [Z, M, M, NB]);
  const pi = (r: number) => mlp(r, [Z, M, M, 2 * A]);
  const noGrad = enc(N) + pi(N) + rew(N) + dyn(N) + val(N); // targets
  const trained = enc(B) + H * dyn(B) + rew(N) + val(N) + pi(N1);
  return noGrad + 3 * trained;
}

export interface UpdateWorkload {
  wm: WorldModel;
  updater: Updater;
  run(): void;
}

export function updateWorkload(engine: Engine, size: BenchSize): UpdateWorkload {
  const cfg = anchorModelConfig(size);
  const wm = new WorldModel(engine, cfg, { seed: 1 });
  const updater = new Updater(engine, wm, UPDATE_OPTIONS);
  // The anchor's batch: obs ~ N(0,1), actions U(-1,1), rewards N(0,1), expert mean U(-1,1), std U(0.1,1.1).
  const batch = allocateBatch(B, H, cfg.obsDim, cfg.actionDim);
  for (let i = 0; i < batch.obs.length; i++) batch.obs[i] = normalAt(11, i);
  for (let i = 0; i < batch.action.length; i++) batch.action[i] = 2 * uniformAt(12, i) - 1;
  for (let i = 0; i < batch.reward.length; i++) batch.reward[i] = normalAt(13, i);
  for (let i = 0; i < batch.expertMean.length; i++) batch.expertMean[i] = 2 * uniformAt(14, i) - 1;
  for (let i = 0; i < batch.expertStd.length; i++) batch.expertStd[i] = uniformAt(15, i) + 0.1;
  return { wm, updater, run: () => { updater.update(batch, 0); } };
}

export async function bench(args: BenchArgs): Promise<Record<string, unknown>> {
  const size = parseSize(args, 'update');
  const iters = positiveFlag(args, 'update', 'iters', 20);
  const threads = threadsFlag(args, 'update');
  const engine = createEngine({ threads });
  try {
    const w = updateWorkload(engine, size);
    const flops = updateFlops(w.wm.cfg);
    if (!args.json) console.log(`bench update: size ${size}, engine ${engine.name}/${engine.simd}, ${engine.threads} threads, ${w.wm.store.trainableLength} params`);
    const t = timeMedian(w.run, 3, iters);
    const info = w.updater.info;
    const result: Record<string, unknown> = {
      bench: 'update', size, ms: +t.median.toFixed(2), min_ms: +t.min.toFixed(2), threads: engine.threads,
      engine: `${engine.name}/${engine.simd}`, gflops: +(flops / t.median / 1e6).toFixed(1),
      total_loss: +info.total_loss.toFixed(4), pi_loss: +info.pi_loss.toFixed(4),
    };
    if (args.flags.profile === true) addProfile(result, engine, (e) => updateWorkload(e, size).run, iters);
    if (args.flags['vs-torch'] === true) {
      const torch = runTorchAnchor(size, threads);
      addTorchComparison(result, t, flops, torch.updateMs, torch.updateMinMs, torch.line);
    }
    return result;
  } finally {
    engine.dispose();
  }
}
