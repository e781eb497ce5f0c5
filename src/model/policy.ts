// Policy prior network: z -> NL(M) x 2 -> Lin(2A) raw, then the policy head (policy-head.ts).
import type { Engine, F32 } from '../engine/engine.js';
import { Mlp, type InitScheme, type MlpContext } from '../nn/mlp.js';
import type { ParamStore } from '../nn/params.js';
import type { BackwardOptions, ForwardOptions } from '../nn/types.js';
import type { PolicyForm } from './config.js';
import { PolicyHead, type PolicyHeadContext, type PolicyHeadGrads } from './policy-head.js';

export interface PolicyContext {
  readonly maxRows: number;
  mlp: MlpContext;
  /** Outputs (mean, logStd, action [R,A]; logProb, entropy [R]) live here after forward. */
  head: PolicyHeadContext;
  /** Noise buffer [maxRows, A] filled by sampleEps. */
  noise: F32;
  /** Gradient w.r.t. the raw output [maxRows, 2A]. */
  draw: F32;
}

export class PolicyNet {
  readonly mlp: Mlp;
  readonly head: PolicyHead;

  constructor(
    readonly engine: Engine, readonly store: ParamStore, latentDim: number, mlpDim: number, readonly actionDim: number,
    form: PolicyForm, logStdMin: number, logStdMax: number, init: InitScheme,
  ) {
    this.mlp = new Mlp(engine, store, 'policy', { inDim: latentDim, hidden: [mlpDim, mlpDim], outDim: 2 * actionDim, outAct: 'linear', init });
    this.head = new PolicyHead(form, actionDim, logStdMin, logStdMax);
  }

  createContext(maxRows: number): PolicyContext {
    return {
      maxRows, mlp: this.mlp.createContext(maxRows), head: this.head.createContext(this.store, maxRows),
      noise: this.store.alloc(maxRows * this.actionDim), draw: this.store.alloc(maxRows * 2 * this.actionDim),
    };
  }

  /** Fills ctx.noise [R,A] with N(0,1) from counters [counter, counter + R·A) and returns it. */
  sampleEps(ctx: PolicyContext, R: number, seed: number, counter: number): F32 {
    this.engine.randomNormal(R * this.actionDim, seed, counter, 0, 1, ctx.noise, 0);
    return ctx.noise;
  }

  /** Policy of z [R,Z] with noise eps [R,A] (null: deterministic, eps = 0); outputs in ctx.head. */
  forward(ctx: PolicyContext, R: number, z: F32, zOff: number, eps: F32 | null, epsOff: number, opts: ForwardOptions = {}): void {
    this.mlp.forward(ctx.mlp, R, z, zOff, null, 0, opts);
    this.head.forward(ctx.head, R, ctx.mlp.out, ctx.mlp.outOff, eps, epsOff);
  }

  /** Given gradients w.r.t. the head outputs: accumulates parameter grads and dz [R,Z] (null skips). */
  backward(ctx: PolicyContext, g: PolicyHeadGrads, dz: F32 | null, dzOff: number, opts: BackwardOptions = {}): void {
    const R = ctx.head.R;
    this.engine.fill(R * 2 * this.actionDim, 0, ctx.draw, 0);
    this.head.backward(ctx.head, g, ctx.draw, 0);
    this.mlp.backward(ctx.mlp, ctx.draw, 0, dz, dzOff, opts);
  }
}
