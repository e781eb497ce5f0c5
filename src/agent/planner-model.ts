// Adapter: the world model's inference API (src/model/world-model.ts) as the planner's
// `PlannerModel` (src/agent/mppi.ts). Calls are split into chunks of at most wm.inferenceRows rows
// (the model's inference contexts are sized for that many), so any batch of observations can be
// planned; chunking does not change results (every row is computed independently, and policy noise
// is addressed by counter: chunk c of rows [r0, r1) uses counters counter + r0·A onwards).
import type { F32 } from '../engine/engine.js';
import type { WorldModel } from '../model/world-model.js';
import type { PlannerModel } from './mppi.js';

export class WorldModelPlanner implements PlannerModel {
  readonly latentDim: number;
  readonly actionDim: number;
  readonly valueForm: 'Q' | 'V';
  readonly numQ: number;
  private readonly obsDim: number;
  private readonly chunk: number;

  constructor(readonly wm: WorldModel, readonly dynamicsHead = 0) {
    // Episodic models (a termination head) gate the planner's returns; others need no calls.
    if (!wm.terminationNet) this.terminationLogit = undefined;
    this.latentDim = wm.cfg.latentDim;
    this.actionDim = wm.cfg.actionDim;
    this.valueForm = wm.cfg.valueForm;
    this.numQ = wm.cfg.numQ;
    this.obsDim = wm.cfg.obsDim;
    this.chunk = wm.inferenceRows;
  }

  encode(R: number, obs: F32, obsOff: number, z: F32, zOff: number): void {
    const { chunk, obsDim: O, latentDim: Z } = this;
    for (let r0 = 0; r0 < R; r0 += chunk) {
      this.wm.encode(Math.min(chunk, R - r0), obs, z, obsOff + r0 * O, zOff + r0 * Z);
    }
  }

  next(R: number, z: F32, zOff: number, a: F32, aOff: number, zNext: F32, zNextOff: number): void {
    const { chunk, latentDim: Z, actionDim: A } = this;
    for (let r0 = 0; r0 < R; r0 += chunk) {
      this.wm.next(Math.min(chunk, R - r0), z, a, zNext, this.dynamicsHead, zOff + r0 * Z, aOff + r0 * A, zNextOff + r0 * Z);
    }
  }

  reward(R: number, z: F32, zOff: number, a: F32, aOff: number, out: F32, outOff: number): void {
    const { chunk, latentDim: Z, actionDim: A } = this;
    for (let r0 = 0; r0 < R; r0 += chunk) {
      this.wm.reward(Math.min(chunk, R - r0), z, a, out, zOff + r0 * Z, aOff + r0 * A, outOff + r0);
    }
  }

  value(
    R: number, z: F32, zOff: number, a: F32 | null, aOff: number, out: F32, outOff: number, target: boolean,
    heads: readonly number[] | null,
  ): void {
    const { chunk, latentDim: Z, actionDim: A } = this;
    const q = this.valueForm === 'Q';
    for (let r0 = 0; r0 < R; r0 += chunk) {
      this.wm.value(Math.min(chunk, R - r0), z, q ? a : null, out, {
        target, heads, zOff: zOff + r0 * Z, aOff: aOff + r0 * A, outOff: outOff + r0,
      });
    }
  }

  policyAction(R: number, z: F32, zOff: number, action: F32, actionOff: number, seed: number, counter: number, sample: boolean): void {
    const { chunk, latentDim: Z, actionDim: A } = this;
    for (let r0 = 0; r0 < R; r0 += chunk) {
      this.wm.pi(Math.min(chunk, R - r0), z, null, null, action, seed, counter + r0 * A, {
        sample, zOff: zOff + r0 * Z, outOff: actionOff + r0 * A,
      });
    }
  }

  terminationLogit?(R: number, z: F32, zOff: number, out: F32, outOff: number): void {
    const { chunk, latentDim: Z } = this;
    for (let r0 = 0; r0 < R; r0 += chunk) {
      this.wm.terminationLogit(Math.min(chunk, R - r0), z, out, zOff + r0 * Z, outOff + r0);
    }
  }
}
