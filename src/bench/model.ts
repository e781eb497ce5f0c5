// `tdmpc bench model` (options: USAGE)
// Times the world model alone, on the shapes of the PyTorch anchor (shared/anchors/torch_tdmpc2_cpu.py):
//   forward_ms           update-shaped forward (src/model/pass.ts): encoder on B=256 rows, dynamics
//                        unrolled H=3 steps, reward and value (5 heads, dropout on) on H·B rows,
//                        policy on (H+1)·B rows
//   forward_backward_ms  zeroGrad + the same forward + the full backward (all parameter gradients)
//   plan_forward_ms      one MPPI iteration's model work on 536 rows (512 samples + 24 policy
//                        trajectories): H x (reward + next), then the mean of the 5 value heads
// Sizes: S = obs 24, action 6, enc 256, mlp 384, latent 128; M = enc 256, mlp 512, latent 512.
// Median of --iters timed runs after 2 warm-ups.
import { positiveFlag, threadsFlag, type BenchArgs } from './index.js';
import { createEngine } from '../engine/index.js';
import { CliError } from '../errors.js';
import { parseSize } from './plan.js';
import { normalAt, uniformAt } from '../engine/rng.js';
import { makeWorldModelConfig } from '../model/config.js';
import { WorldModelPass } from '../model/pass.js';
import { WorldModel } from '../model/world-model.js';

export const USAGE = 'tdmpc bench model [--size S|M] [--iters N] [--value V|Q] [--policy tdmpc2|bmpc] [--threads T] [--json]';

const SIZES = {
  S: { encDim: 256, mlpDim: 384, latentDim: 128 },
  M: { encDim: 256, mlpDim: 512, latentDim: 512 },
} as const;

const B = 256;
const H = 3;
const PLAN_ROWS = 536;

function median(fn: () => void, iters: number): number {
  for (let i = 0; i < 2; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

function flag(args: BenchArgs, name: string, dflt: string): string {
  const v = args.flags[name];
  if (v === undefined) return dflt;
  if (typeof v !== 'string') throw new CliError(`bench model: --${name} needs a value`);
  return v;
}

export async function bench(args: BenchArgs): Promise<Record<string, unknown>> {
  const size = parseSize(args, 'model');
  const iters = positiveFlag(args, 'model', 'iters', 10);
  const threads = threadsFlag(args, 'model');
  const valueForm = flag(args, 'value', 'V');
  if (valueForm !== 'V' && valueForm !== 'Q') throw new CliError(`bench model: --value must be V (BMPC's V(s)) or Q (TD-MPC2's Q(s,a)), got '${valueForm}'`);
  const policyForm = flag(args, 'policy', 'tdmpc2');
  if (policyForm !== 'tdmpc2' && policyForm !== 'bmpc') throw new CliError(`bench model: --policy must be tdmpc2 or bmpc, got '${policyForm}'`);

  const engine = createEngine({ threads });
  try {
    const cfg = makeWorldModelConfig({
      obsDim: 24, actionDim: 6, numEncLayers: 2, numQ: 5, valueForm, policyForm, ...SIZES[size],
    });
    const wm = new WorldModel(engine, cfg, { seed: 1, inferenceRows: PLAN_ROWS });
    const { obsDim, actionDim: A, latentDim: Z } = cfg;
    if (!args.json) console.log(`bench model: size ${size}, engine ${engine.name}/${engine.simd}, ${engine.threads} threads, ${wm.store.trainableLength} params`);

    // ---- update-shaped forward / forward+backward
    const pass = new WorldModelPass(wm, B, H);
    const obs = new Float32Array(B * obsDim);
    for (let i = 0; i < obs.length; i++) obs[i] = normalAt(1, i);
    const actions = new Float32Array(H * B * A);
    for (let i = 0; i < actions.length; i++) actions[i] = 2 * uniformAt(2, i) - 1;
    for (const [k, g] of [pass.dz, pass.dRewardLogits, pass.dValueLogits, ...Object.values(pass.policyGrads)].entries()) {
      for (let i = 0; i < g.length; i++) g[i] = 1e-3 * normalAt(10 + k, i);
    }
    let counter = 0;
    const fwd = (): void => {
      pass.forward(obs, actions, { train: true, seed: 3, counter, policyCounter: counter + (1 << 23) });
      counter += 1 << 24;
    };
    const forwardMs = median(fwd, iters);
    const forwardBackwardMs = median(() => {
      wm.zeroGrad();
      fwd();
      pass.backward();
    }, iters);

    // ---- planning-shaped forward (one MPPI iteration)
    const z0 = new Float32Array(PLAN_ROWS * Z);
    const zA = new Float32Array(PLAN_ROWS * Z);
    const zB = new Float32Array(PLAN_ROWS * Z);
    const obsPlan = new Float32Array(PLAN_ROWS * obsDim);
    for (let i = 0; i < obsPlan.length; i++) obsPlan[i] = normalAt(4, i % obsDim);
    wm.encode(PLAN_ROWS, obsPlan, z0);
    const planActions = new Float32Array(H * PLAN_ROWS * A);
    for (let i = 0; i < planActions.length; i++) planActions[i] = 2 * uniformAt(5, i) - 1;
    const r = new Float32Array(PLAN_ROWS);
    const v = new Float32Array(PLAN_ROWS);
    const planMs = median(() => {
      let z = z0;
      for (let t = 0; t < H; t++) {
        const zn = t % 2 === 0 ? zA : zB;
        wm.reward(PLAN_ROWS, z, planActions, r, 0, t * PLAN_ROWS * A);
        wm.next(PLAN_ROWS, z, planActions, zn, 0, 0, t * PLAN_ROWS * A);
        z = zn;
      }
      wm.value(PLAN_ROWS, z, valueForm === 'Q' ? planActions : null, v, { aOff: (H - 1) * PLAN_ROWS * A });
    }, iters);

    return {
      bench: 'model', size, engine: engine.name, simd: engine.simd,
      forward_ms: Number(forwardMs.toFixed(3)),
      forward_backward_ms: Number(forwardBackwardMs.toFixed(3)),
      plan_forward_ms: Number(planMs.toFixed(3)),
      threads: engine.threads, params: wm.store.trainableLength,
      batch: B, horizon: H, plan_rows: PLAN_ROWS, value_form: valueForm, policy_form: policyForm,
    };
  } finally {
    engine.dispose();
  }
}
