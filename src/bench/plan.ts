// `tdmpc bench plan` (options: USAGE)
// One MPPI planning call for one observation, the PLAN workload of the PyTorch anchor
// (shared/anchors/torch_tdmpc2_cpu.py): 512 Gaussian samples + 24 policy trajectories, horizon 3,
// 6 iterations, 64 elites, temperature 0.5, std in [0.05, 2], a BMPC-style V-form model with 5
// value heads. Median of --iters (20) timed calls after 3 warm-ups, as the anchor does.
// --vs-torch also runs the anchor in this invocation and reports ratio = ms / torch_ms.
// --profile adds a per-kernel breakdown (engine wrapped; slightly slower) of the timed runs.
import { positiveFlag, threadsFlag, type BenchArgs } from './index.js';
import type { Engine } from '../engine/engine.js';
import { createEngine } from '../engine/index.js';
import { normalAt } from '../engine/rng.js';
import { CliError } from '../errors.js';
import { makeWorldModelConfig, type WorldModelConfig } from '../model/config.js';
import { WorldModel } from '../model/world-model.js';
import { MppiPlanner, type PlannerOptions } from '../agent/mppi.js';
import { WorldModelPlanner } from '../agent/planner-model.js';
import { addProfile, addTorchComparison, runTorchAnchor, timeMedian } from './torch-anchor.js';

export const USAGE = 'tdmpc bench plan [--size S|M] [--vs-torch] [--iters N] [--threads T] [--profile] [--json]';

/** Anchor sizes (obs 24, action 6). */
export const BENCH_SIZES = {
  S: { encDim: 256, mlpDim: 384, latentDim: 128 },
  M: { encDim: 256, mlpDim: 512, latentDim: 512 },
} as const;
export type BenchSize = keyof typeof BENCH_SIZES;

export const PLAN_OPTIONS: PlannerOptions = {
  horizon: 3, iterations: 6, numSamples: 512, numElites: 64, numPiTrajs: 24, minStd: 0.05, maxStd: 2,
  temperature: 0.5, discount: 0.99, emaValue: false, qEstimate: 'mean', policySeedNoise: 0, expertMeanFromAction: false, evalElite: 'sample',
};

/** The anchor's model: V(s) ensemble of 5, one reward head with 2 layers, no dropout. */
export function anchorModelConfig(size: BenchSize): WorldModelConfig {
  return makeWorldModelConfig({
    obsDim: 24, actionDim: 6, numEncLayers: 2, numQ: 5, valueForm: 'V', policyForm: 'tdmpc2', dropout: 0,
    numRewardHeads: 1, numRewardLayers: 2, ...BENCH_SIZES[size],
  });
}

/** Multiply-add FLOPs (2 per MAC) of one plan call, for a GFLOP/s figure. */
export function planFlops(cfg: WorldModelConfig, o: PlannerOptions): number {
  const { obsDim: O, actionDim: A, latentDim: Z, encDim: E, mlpDim: M, numBins: NB, numQ: K } = cfg;
  const P = o.numSamples + o.numPiTrajs;
  const mlp = (rows: number, dims: number[]) => {
    let s = 0;
    for (let i = 0; i + 1 < dims.length; i++) s += dims[i] * dims[i + 1];
    return 2 * rows * s;
  };
  const rew = (r: number) => mlp(r, [Z + A, M, M, NB]);
  const dyn = (r: number) => mlp(r, [Z + A, M, M, Z]);
  const val = (r: number) => K * mlp(r, [Z, M, M, NB]);
  const pi = (r: number) => mlp(r, [Z, M, M, 2 * A]);
  const prior = o.horizon * pi(o.numPiTrajs) + (o.horizon - 1) * dyn(o.numPiTrajs);
  return mlp(1, [O, E, Z]) + prior + o.iterations * (o.horizon * (rew(P) + dyn(P)) + val(P));
}

export interface PlanWorkload {
  wm: WorldModel;
  planner: MppiPlanner;
  run(): void;
}

export function planWorkload(engine: Engine, size: BenchSize): PlanWorkload {
  const cfg = anchorModelConfig(size);
  const rows = PLAN_OPTIONS.numSamples + PLAN_OPTIONS.numPiTrajs;
  const wm = new WorldModel(engine, cfg, { seed: 1, inferenceRows: rows });
  // Random (not zero) output layers, so scores and elites are not all ties.
  const { reward, value } = wm.seg;
  for (const s of [reward, value]) for (let i = s.offset; i < s.offset + s.length; i++) wm.params[i] += 0.02 * normalAt(5, i);
  wm.syncTarget();
  const planner = new MppiPlanner(engine, new WorldModelPlanner(wm), PLAN_OPTIONS, 1, 7);
  const obs = new Float32Array(cfg.obsDim);
  for (let i = 0; i < obs.length; i++) obs[i] = normalAt(3, i);
  return { wm, planner, run: () => { planner.plan(1, obs, 0, false); } };
}

export function parseSize(args: BenchArgs, bench: string): BenchSize {
  const v = args.flags.size ?? 'S';
  const size = typeof v === 'string' ? v.toUpperCase() : '';
  if (size !== 'S' && size !== 'M') throw new CliError(`bench ${bench}: --size must be S or M, got '${String(v)}'`);
  return size;
}

export async function bench(args: BenchArgs): Promise<Record<string, unknown>> {
  const size = parseSize(args, 'plan');
  const iters = positiveFlag(args, 'plan', 'iters', 20);
  const threads = threadsFlag(args, 'plan');
  const engine = createEngine({ threads });
  try {
    const w = planWorkload(engine, size);
    const flops = planFlops(w.wm.cfg, PLAN_OPTIONS);
    if (!args.json) console.log(`bench plan: size ${size}, engine ${engine.name}/${engine.simd}, ${engine.threads} threads`);
    const t = timeMedian(w.run, 3, iters);
    const result: Record<string, unknown> = {
      bench: 'plan', size, ms: +t.median.toFixed(2), min_ms: +t.min.toFixed(2), threads: engine.threads,
      engine: `${engine.name}/${engine.simd}`, gflops: +(flops / t.median / 1e6).toFixed(1),
    };
    if (args.flags.profile === true) addProfile(result, engine, (e) => planWorkload(e, size).run, iters);
    if (args.flags['vs-torch'] === true) {
      const torch = runTorchAnchor(size, threads);
      addTorchComparison(result, t, flops, torch.planMs, torch.planMinMs, torch.line);
    }
    return result;
  } finally {
    engine.dispose();
  }
}
