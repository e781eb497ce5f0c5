// Latent dynamics z' = d_h(z, a) with numDynamicsHeads heads (one head per pass; the caller picks
// it) and, when priorScale > 0, a frozen random prior network per head (tdmpc2's
// DynamicsHeadWithPrior, for ensemble diversity):
//   x = z ⊕ a [R, Z+A]
//   no prior:  z' = NL(Z, SimNorm)(NL(M)(NL(M)(x)))                 (SimNorm fused in the kernel)
//   prior:     pre = NL(Z)(NL(M)(NL(M)(x))) + priorScale · prior_h(x);  z' = SimNorm(pre)
// Priors live in the frozen segment: their parameter gradients go to the frozen part of grads,
// which nothing reads, but the input gradient through them is exact.
import { ACT_NONE, ACT_SIMNORM, type Engine, type F32 } from '../engine/engine.js';
import { ShapeError } from '../errors.js';
import { Mlp, type InitScheme, type MlpContext } from '../nn/mlp.js';
import type { ParamStore } from '../nn/params.js';
import { SimNorm } from '../nn/simnorm.js';
import { checkRows, type BackwardOptions, type ForwardOptions } from '../nn/types.js';

export interface DynamicsContext {
  readonly maxRows: number;
  R: number;
  head: number;
  /** z ⊕ a [maxRows, Z+A] and its gradient. */
  xin: F32;
  dxin: F32;
  main: MlpContext;
  prior: MlpContext | null;
  /** Prior path only: pre-SimNorm sum, output z', and dpre [maxRows, Z]. */
  pre: F32 | null;
  zOut: F32 | null;
  dpre: F32 | null;
  /** Where the last forward left z' [R,Z]. */
  out: F32;
  outOff: number;
}

export class DynamicsNet {
  readonly heads: Mlp[] = [];
  readonly priors: Mlp[] = [];
  readonly simnorm: SimNorm;
  readonly inDim: number;

  constructor(
    readonly engine: Engine, readonly store: ParamStore, readonly latentDim: number, readonly actionDim: number,
    mlpDim: number, simnormDim: number, numHeads: number, readonly priorScale: number, init: InitScheme,
  ) {
    this.inDim = latentDim + actionDim;
    this.simnorm = new SimNorm(latentDim, simnormDim);
    const outAct = priorScale > 0 ? ACT_NONE : ACT_SIMNORM;
    for (let h = 0; h < numHeads; h++) {
      this.heads.push(new Mlp(engine, store, `dynamics.${h}`, {
        inDim: this.inDim, hidden: [mlpDim, mlpDim], outDim: latentDim, outAct, group: simnormDim, init,
      }));
    }
  }

  /** Adds the frozen priors (call inside the frozen segment, after all trainable segments). */
  addPriors(hidden: number, init: InitScheme): void {
    for (let h = 0; h < this.heads.length; h++) {
      this.priors.push(new Mlp(this.engine, this.store, `dynamics_prior.${h}`, {
        inDim: this.inDim, hidden: [hidden, hidden], outDim: this.latentDim, outAct: 'linear', init,
      }));
    }
  }

  get numHeads(): number {
    return this.heads.length;
  }

  private get hasPrior(): boolean {
    return this.priorScale > 0 && this.priors.length > 0;
  }

  createContext(maxRows: number): DynamicsContext {
    const s = this.store;
    const Z = this.latentDim;
    const main = this.heads[0].createContext(maxRows);
    const p = this.hasPrior;
    return {
      maxRows, R: 0, head: 0, xin: s.alloc(maxRows * this.inDim), dxin: s.alloc(maxRows * this.inDim),
      main, prior: p ? this.priors[0].createContext(maxRows) : null,
      pre: p ? s.alloc(maxRows * Z) : null, zOut: p ? s.alloc(maxRows * Z) : null, dpre: p ? s.alloc(maxRows * Z) : null,
      out: main.out, outOff: 0,
    };
  }

  /** zNext [R,Z] = d_head(z [R,Z], a [R,A]); zNext may be null (result at ctx.out/ctx.outOff). */
  forward(
    ctx: DynamicsContext, R: number, z: F32, zOff: number, a: F32, aOff: number,
    zNext: F32 | null, zNextOff: number, head = 0, opts: ForwardOptions = {},
  ): void {
    checkRows('dynamics', R, ctx.maxRows);
    if (!Number.isInteger(head) || head < 0 || head >= this.heads.length) {
      throw new ShapeError(`dynamics: head ${head} out of range [0, ${this.heads.length})`);
    }
    const e = this.engine;
    const Z = this.latentDim;
    ctx.R = R;
    ctx.head = head;
    e.concatColumns(R, Z, this.actionDim, z, zOff, a, aOff, ctx.xin, 0);
    if (!this.hasPrior) {
      this.heads[head].forward(ctx.main, R, ctx.xin, 0, zNext, zNextOff, opts);
      ctx.out = ctx.main.out;
      ctx.outOff = 0;
      return;
    }
    this.heads[head].forward(ctx.main, R, ctx.xin, 0, null, 0, opts);
    // The prior is frozen and deterministic: always the store's own parameters.
    this.priors[head].forward(ctx.prior!, R, ctx.xin, 0, null, 0);
    e.copy(R * Z, ctx.main.out, 0, ctx.pre!, 0);
    e.axpy(R * Z, this.priorScale, ctx.prior!.out, 0, ctx.pre!, 0);
    this.simnorm.forward(e, R, ctx.pre!, 0, ctx.zOut!, 0);
    ctx.out = ctx.zOut!;
    ctx.outOff = 0;
    if (zNext) e.copy(R * Z, ctx.zOut!, 0, zNext, zNextOff);
  }

  /** Given dzNext [R,Z]: accumulates parameter grads, dz [R,Z] and da [R,A] (either may be null). */
  backward(
    ctx: DynamicsContext, dzNext: F32, dzNextOff: number, dz: F32 | null, dzOff: number,
    da: F32 | null, daOff: number, opts: BackwardOptions = {},
  ): void {
    const e = this.engine;
    const R = ctx.R;
    const Z = this.latentDim;
    const wantInput = dz !== null || da !== null;
    if (wantInput) e.fill(R * this.inDim, 0, ctx.dxin, 0);
    const dIn = wantInput ? ctx.dxin : null;
    if (!this.hasPrior) {
      this.heads[ctx.head].backward(ctx.main, dzNext, dzNextOff, dIn, 0, opts);
    } else {
      const dpre = ctx.dpre!;
      e.fill(R * Z, 0, dpre, 0);
      this.simnorm.backward(e, R, ctx.zOut!, 0, dzNext, dzNextOff, dpre, 0);
      this.heads[ctx.head].backward(ctx.main, dpre, 0, dIn, 0, opts);
      if (wantInput) {
        e.scale(R * Z, this.priorScale, dpre, 0);
        this.priors[ctx.head].backward(ctx.prior!, dpre, 0, dIn, 0);
      }
    }
    if (wantInput) e.splitColumnsBackward(R, Z, this.actionDim, ctx.dxin, 0, dz, dzOff, da, daOff);
  }
}
