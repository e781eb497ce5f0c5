// The pure-TypeScript backend: the reference oracle every other backend and module is tested against.
// Semantics are documented once, in engine.ts; this file only adds the choices that doc leaves open
// (each marked "Choice:" below, and mirrored by the native engine).
//
// Precision-generic on purpose: every kernel reads array elements into JS doubles, accumulates in
// doubles and stores once into the output array. Called with Float64Array buffers (cast to F32),
// the whole computation is float64, which is what the finite-difference gradient checks rely on.
// So: no Math.fround, and no Float32Array temporaries; scratch is Float64Array, grown once.
//
// Single-threaded: `threads` is stored for the interface, the result never depends on it.
import type { Activation, Engine, F32 } from './engine.js';
import { ACT_MISH, ACT_NONE, ACT_SIMNORM } from './engine.js';
import { rngKey, rngWord } from './rng.js';
import { ShapeCheck } from './validate.js';

const LN_EPS = 1e-5;
/** Softplus returns x above this (PyTorch's threshold); below it log1p(e^x) cannot overflow. */
const SOFTPLUS_THRESHOLD = 20;
const UNIT_24 = 1 / 16777216; // 2^-24, as in rng.ts
const TWO_POW_53 = 9007199254740992;

function softplus(x: number): number {
  return x > SOFTPLUS_THRESHOLD ? x : Math.log1p(Math.exp(x));
}

/** 1 / (1 + e^-x) without overflow for very negative x. */
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

function mish(x: number): number {
  return x * Math.tanh(softplus(x));
}

/** d/dx x·tanh(sp(x)) = tanh(sp) + x · (1 - tanh²(sp)) · sigmoid(x). */
/** Do (x, xOff) and (y, yOff) start at the same byte of the same memory? */
function sameRange(x: F32, xOff: number, y: F32, yOff: number): boolean {
  return x.buffer === y.buffer && x.byteOffset + xOff * x.BYTES_PER_ELEMENT === y.byteOffset + yOff * y.BYTES_PER_ELEMENT;
}

function mishGrad(x: number): number {
  if (x === Infinity) return 1; // the limit, as the native kernels give it (x·0 would be NaN)
  const t = Math.tanh(softplus(x));
  return t + x * (1 - t * t) * sigmoid(x);
}

function symlog(x: number): number {
  return Math.sign(x) * Math.log1p(Math.abs(x));
}

function symexp(x: number): number {
  return Math.sign(x) * Math.expm1(Math.abs(x));
}

export class JsEngine implements Engine {
  readonly name = 'js';
  readonly simd = 'js';
  readonly threads: number;

  private readonly check = new ShapeCheck();
  // Float64 scratch, grown (never shrunk) to the largest size seen; see growScratch.
  private gemmRow = new Float64Array(64); // [N] gemm row accumulator
  private rowA = new Float64Array(64); // [D] per-row values (NormedLinear norm/y, softmax exps)
  private rowB = new Float64Array(64); // [D] per-row gradients (NormedLinear dy)
  private colA = new Float64Array(64); // [D] sums over rows (sumRows, NormedLinear db)
  private colB = new Float64Array(64); // [D] NormedLinear dgamma
  private colC = new Float64Array(64); // [D] NormedLinear dbeta

  constructor(threads = 1) {
    if (!Number.isInteger(threads) || threads < 1) {
      throw new RangeError(`JsEngine threads must be a positive integer, got ${threads}`);
    }
    this.threads = threads;
  }

  dispose(): void {
    // Nothing to stop: the JS engine owns no threads.
  }

  offerGuestSeat(_id: number): boolean {
    return false; // computes on the calling thread only
  }

  /** Grows the per-row/per-column scratch to hold D values (allocates only when D is a new maximum). */
  private growScratch(D: number): void {
    if (this.rowA.length >= D) return;
    const size = Math.max(D, 2 * this.rowA.length);
    this.rowA = new Float64Array(size);
    this.rowB = new Float64Array(size);
    this.colA = new Float64Array(size);
    this.colB = new Float64Array(size);
    this.colC = new Float64Array(size);
  }

  // ================================================================== GEMM

  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: F32, aOff: number, B: F32, bOff: number, C: F32, cOff: number,
    bias: F32 | null, biasOff: number, accumulate: boolean,
  ): void {
    const v = this.check.begin('gemm').dim('M', M).dim('N', N).dim('K', K)
      .flag('transA', transA).flag('transB', transB).checkDims();
    v.buffer('A', A, aOff, M * K).buffer('B', B, bOff, K * N).buffer('C', C, cOff, M * N)
      .optional('bias', bias, biasOff, N)
      .noOverlap('C', C, cOff, M * N, 'A', A, aOff, M * K).noOverlap('C', C, cOff, M * N, 'B', B, bOff, K * N)
      .noOverlap('C', C, cOff, M * N, 'bias', bias, biasOff, N);
    this.gemmCore(transA, transB, M, N, K, A, aOff, B, bOff, C, cOff, bias, biasOff, accumulate);
  }

  gemmBatched(
    count: number, transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: F32, aOff: number, aStride: number, B: F32, bOff: number, bStride: number,
    C: F32, cOff: number, cStride: number,
    bias: F32 | null, biasOff: number, biasStride: number, accumulate: boolean,
  ): void {
    const v = this.check.begin('gemmBatched').dim('count', count).dim('M', M).dim('N', N).dim('K', K)
      .flag('transA', transA).flag('transB', transB)
      .dim('aStride', aStride).dim('bStride', bStride).dim('cStride', cStride).dim('biasStride', biasStride)
      .checkDims();
    // Problem count-1 ends furthest: (count-1)·stride + size floats from the offset.
    const last = count > 0 ? count - 1 : 0;
    const live = count > 0 ? 1 : 0;
    const aSpan = live * (last * aStride + M * K), bSpan = live * (last * bStride + K * N);
    const cSpan = live * (last * cStride + M * N), biasSpan = live * (last * biasStride + N);
    v.buffer('A', A, aOff, aSpan).buffer('B', B, bOff, bSpan).buffer('C', C, cOff, cSpan)
      .optional('bias', bias, biasOff, biasSpan)
      .noOverlap('C', C, cOff, cSpan, 'A', A, aOff, aSpan).noOverlap('C', C, cOff, cSpan, 'B', B, bOff, bSpan)
      .noOverlap('C', C, cOff, cSpan, 'bias', bias, biasOff, biasSpan);
    for (let p = 0; p < count; p++) {
      this.gemmCore(
        transA, transB, M, N, K, A, aOff + p * aStride, B, bOff + p * bStride, C, cOff + p * cStride,
        bias, biasOff + p * biasStride, accumulate,
      );
    }
  }

  /**
   * Unchecked GEMM. Each C element is Σ_k (k ascending, in a double) + bias + old C, stored once.
   * !transB: i-k-j order over contiguous B rows into a double row accumulator;
   * transB: i-j-k dot products (B's rows are then contiguous along k).
   */
  private gemmCore(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: F32, aOff: number, B: F32, bOff: number, C: F32, cOff: number,
    bias: F32 | null, biasOff: number, accumulate: boolean,
  ): void {
    // op(A)[i,k] = A[aOff + i*aRowStep + k*aColStep]
    const aRowStep = transA ? 1 : K;
    const aColStep = transA ? M : 1;
    if (!transB) {
      if (this.gemmRow.length < N) this.gemmRow = new Float64Array(Math.max(N, 2 * this.gemmRow.length));
      const acc = this.gemmRow;
      for (let i = 0; i < M; i++) {
        acc.fill(0, 0, N);
        const aRow = aOff + i * aRowStep;
        for (let k = 0; k < K; k++) {
          const a = A[aRow + k * aColStep];
          const bRow = bOff + k * N;
          for (let j = 0; j < N; j++) acc[j] += a * B[bRow + j];
        }
        const cRow = cOff + i * N;
        for (let j = 0; j < N; j++) {
          let s = acc[j];
          if (bias !== null) s += bias[biasOff + j];
          if (accumulate) s += C[cRow + j];
          C[cRow + j] = s;
        }
      }
    } else {
      for (let i = 0; i < M; i++) {
        const aRow = aOff + i * aRowStep;
        const cRow = cOff + i * N;
        for (let j = 0; j < N; j++) {
          const bRow = bOff + j * K;
          let s = 0;
          for (let k = 0; k < K; k++) s += A[aRow + k * aColStep] * B[bRow + k];
          if (bias !== null) s += bias[biasOff + j];
          if (accumulate) s += C[cRow + j];
          C[cRow + j] = s;
        }
      }
    }
  }

  // ================================================================== fused NormedLinear

  /** Shared validation of the NormedLinear dims (act, group rules). */
  private checkNormedLinearDims(op: string, R: number, inDim: number, outDim: number, act: number, group: number): ShapeCheck {
    const v = this.check.begin(op).dim('R', R).dim('in', inDim).dim('out', outDim)
      .dim('act', act).dim('group', group).checkDims();
    if (act !== ACT_NONE && act !== ACT_MISH && act !== ACT_SIMNORM) {
      v.fail(`act must be 0 (none), 1 (mish) or 2 (simnorm), got ${act}`);
    }
    if (act === ACT_SIMNORM) {
      if (group === 0) v.fail(`group must be positive for act=2 (simnorm), got ${group}`);
      if (outDim % group !== 0) v.fail(`out must be divisible by group, got out=${outDim} group=${group}`);
    }
    return v;
  }

  normedLinearForward(
    R: number, inDim: number, outDim: number, act: Activation, group: number,
    x: F32, xOff: number, W: F32, wOff: number, b: F32, bOff: number,
    gamma: F32, gammaOff: number, beta: F32, betaOff: number,
    mask: F32 | null, maskOff: number,
    lin: F32, linOff: number, mean: F32, meanOff: number, rstd: F32, rstdOff: number,
    out: F32, outOff: number,
  ): void {
    const v = this.checkNormedLinearDims('normedLinearForward', R, inDim, outDim, act, group);
    v.buffer('x', x, xOff, R * inDim).buffer('W', W, wOff, outDim * inDim).buffer('b', b, bOff, outDim)
      .buffer('gamma', gamma, gammaOff, outDim).buffer('beta', beta, betaOff, outDim)
      .optional('mask', mask, maskOff, R * outDim)
      .buffer('lin', lin, linOff, R * outDim).buffer('mean', mean, meanOff, R).buffer('rstd', rstd, rstdOff, R)
      .buffer('out', out, outOff, R * outDim)
      .noOverlap('out', out, outOff, R * outDim, 'lin', lin, linOff, R * outDim);
    this.growScratch(outDim);
    const y = this.rowA;
    // Choice: outDim = 0 gives mean 0 and rstd 1/sqrt(eps) (the empty mean taken as 0).
    const invD = outDim > 0 ? 1 / outDim : 0;
    for (let r = 0; r < R; r++) {
      const xRow = xOff + r * inDim;
      const linRow = linOff + r * outDim;
      // lin = (x·Wᵀ + b) ⊙ mask: dropout multiplies the whole linear output, bias included (tdmpc2).
      for (let o = 0; o < outDim; o++) {
        const wRow = wOff + o * inDim;
        let s = 0;
        for (let i = 0; i < inDim; i++) s += x[xRow + i] * W[wRow + i];
        s += b[bOff + o];
        if (mask !== null) s *= mask[maskOff + r * outDim + o];
        lin[linRow + o] = s;
      }
      // LayerNorm statistics from the stored lin (what backward reads), two-pass for stability.
      let sum = 0;
      for (let o = 0; o < outDim; o++) sum += lin[linRow + o];
      const mu = sum * invD;
      let sq = 0;
      for (let o = 0; o < outDim; o++) {
        const d = lin[linRow + o] - mu;
        sq += d * d;
      }
      mean[meanOff + r] = mu;
      rstd[rstdOff + r] = 1 / Math.sqrt(sq * invD + LN_EPS);
      // y from the stored mean/rstd, so backward's recomputed y is bit-identical.
      const m = mean[meanOff + r];
      const rs = rstd[rstdOff + r];
      for (let o = 0; o < outDim; o++) {
        y[o] = (lin[linRow + o] - m) * rs * gamma[gammaOff + o] + beta[betaOff + o];
      }
      const outRow = outOff + r * outDim;
      if (act === ACT_NONE) {
        for (let o = 0; o < outDim; o++) out[outRow + o] = y[o];
      } else if (act === ACT_MISH) {
        for (let o = 0; o < outDim; o++) out[outRow + o] = mish(y[o]);
      } else {
        for (let g0 = 0; g0 < outDim; g0 += group) softmaxGroup(y, g0, group, out, outRow + g0);
      }
    }
  }

  normedLinearBackward(
    R: number, inDim: number, outDim: number, act: Activation, group: number,
    x: F32, xOff: number, W: F32, wOff: number,
    gamma: F32, gammaOff: number, beta: F32, betaOff: number,
    mask: F32 | null, maskOff: number,
    lin: F32, linOff: number, mean: F32, meanOff: number, rstd: F32, rstdOff: number,
    out: F32, outOff: number, dout: F32, doutOff: number,
    dx: F32 | null, dxOff: number, dW: F32, dwOff: number, db: F32, dbOff: number,
    dgamma: F32, dgammaOff: number, dbeta: F32, dbetaOff: number,
    scratch: F32, scratchOff: number,
  ): void {
    const v = this.checkNormedLinearDims('normedLinearBackward', R, inDim, outDim, act, group);
    v.buffer('x', x, xOff, R * inDim).buffer('W', W, wOff, outDim * inDim)
      .buffer('gamma', gamma, gammaOff, outDim).buffer('beta', beta, betaOff, outDim)
      .optional('mask', mask, maskOff, R * outDim)
      .buffer('lin', lin, linOff, R * outDim).buffer('mean', mean, meanOff, R).buffer('rstd', rstd, rstdOff, R)
      .buffer('out', out, outOff, R * outDim).buffer('dout', dout, doutOff, R * outDim)
      .optional('dx', dx, dxOff, R * inDim).buffer('dW', dW, dwOff, outDim * inDim).buffer('db', db, dbOff, outDim)
      .buffer('dgamma', dgamma, dgammaOff, outDim).buffer('dbeta', dbeta, dbetaOff, outDim)
      .buffer('scratch', scratch, scratchOff, R * outDim);
    this.growScratch(outDim);
    const norm = this.rowA; // [out] (lin - mean)·rstd of the current row
    const dy = this.rowB; // [out] gradient w.r.t. the LayerNorm output y
    const dbAcc = this.colA;
    const dgAcc = this.colB;
    const dbeAcc = this.colC;
    dbAcc.fill(0, 0, outDim);
    dgAcc.fill(0, 0, outDim);
    dbeAcc.fill(0, 0, outDim);
    const invD = outDim > 0 ? 1 / outDim : 0;
    for (let r = 0; r < R; r++) {
      const row = r * outDim;
      const m = mean[meanOff + r];
      const rs = rstd[rstdOff + r];
      for (let o = 0; o < outDim; o++) norm[o] = (lin[linOff + row + o] - m) * rs;
      // dy = dout through the activation (Mish needs y, recomputed; SimNorm needs its output).
      if (act === ACT_NONE) {
        for (let o = 0; o < outDim; o++) dy[o] = dout[doutOff + row + o];
      } else if (act === ACT_MISH) {
        for (let o = 0; o < outDim; o++) {
          const y = norm[o] * gamma[gammaOff + o] + beta[betaOff + o];
          dy[o] = dout[doutOff + row + o] * mishGrad(y);
        }
      } else {
        for (let g0 = 0; g0 < outDim; g0 += group) {
          let s = 0;
          for (let o = g0; o < g0 + group; o++) s += out[outOff + row + o] * dout[doutOff + row + o];
          for (let o = g0; o < g0 + group; o++) {
            dy[o] = out[outOff + row + o] * (dout[doutOff + row + o] - s);
          }
        }
      }
      // LayerNorm backward (llm.c layernorm_backward): dnorm = dy·gamma,
      // dlin = rstd · (dnorm - mean(dnorm) - norm · mean(dnorm · norm)).
      let sumD = 0;
      let sumDN = 0;
      for (let o = 0; o < outDim; o++) {
        const d = dy[o];
        dgAcc[o] += d * norm[o];
        dbeAcc[o] += d;
        const dn = d * gamma[gammaOff + o];
        sumD += dn;
        sumDN += dn * norm[o];
      }
      const meanD = sumD * invD;
      const meanDN = sumDN * invD;
      // Choice: scratch holds the gradient w.r.t. the pre-mask linear output x·Wᵀ + b, i.e. dlin ⊙ mask,
      // which is what db, dW and dx are built from.
      for (let o = 0; o < outDim; o++) {
        let d = rs * (dy[o] * gamma[gammaOff + o] - meanD - norm[o] * meanDN);
        if (mask !== null) d *= mask[maskOff + row + o];
        scratch[scratchOff + row + o] = d;
        dbAcc[o] += scratch[scratchOff + row + o];
      }
    }
    for (let o = 0; o < outDim; o++) {
      db[dbOff + o] += dbAcc[o];
      dgamma[dgammaOff + o] += dgAcc[o];
      dbeta[dbetaOff + o] += dbeAcc[o];
    }
    // dW [out,in] += scratchᵀ [out,R] · x [R,in];  dx [R,in] += scratch [R,out] · W [out,in].
    this.gemmCore(true, false, outDim, inDim, R, scratch, scratchOff, x, xOff, dW, dwOff, null, 0, true);
    if (dx !== null) {
      this.gemmCore(false, false, R, inDim, outDim, scratch, scratchOff, W, wOff, dx, dxOff, null, 0, true);
    }
  }

  // ================================================================== elementwise

  private checkUnary(op: string, n: number, xName: string, x: F32, xOff: number, yName: string, y: F32, yOff: number): void {
    this.check.begin(op).dim('n', n).checkDims().buffer(xName, x, xOff, n).buffer(yName, y, yOff, n);
  }

  private checkBinaryGrad(
    op: string, n: number, xName: string, x: F32, xOff: number, dy: F32, dyOff: number, dx: F32, dxOff: number,
  ): void {
    this.check.begin(op).dim('n', n).checkDims()
      .buffer(xName, x, xOff, n).buffer('dy', dy, dyOff, n).buffer('dx', dx, dxOff, n);
  }

  mishForward(n: number, x: F32, xOff: number, y: F32, yOff: number): void {
    this.checkUnary('mishForward', n, 'x', x, xOff, 'y', y, yOff);
    for (let i = 0; i < n; i++) y[yOff + i] = mish(x[xOff + i]);
  }

  mishBackward(n: number, x: F32, xOff: number, dy: F32, dyOff: number, dx: F32, dxOff: number): void {
    this.checkBinaryGrad('mishBackward', n, 'x', x, xOff, dy, dyOff, dx, dxOff);
    for (let i = 0; i < n; i++) dx[dxOff + i] += dy[dyOff + i] * mishGrad(x[xOff + i]);
  }

  tanhForward(n: number, x: F32, xOff: number, y: F32, yOff: number): void {
    this.checkUnary('tanhForward', n, 'x', x, xOff, 'y', y, yOff);
    for (let i = 0; i < n; i++) y[yOff + i] = Math.tanh(x[xOff + i]);
  }

  tanhBackward(n: number, y: F32, yOff: number, dy: F32, dyOff: number, dx: F32, dxOff: number): void {
    this.checkBinaryGrad('tanhBackward', n, 'y', y, yOff, dy, dyOff, dx, dxOff);
    for (let i = 0; i < n; i++) {
      const t = y[yOff + i];
      dx[dxOff + i] += dy[dyOff + i] * (1 - t * t);
    }
  }

  softplusForward(n: number, x: F32, xOff: number, y: F32, yOff: number): void {
    this.checkUnary('softplusForward', n, 'x', x, xOff, 'y', y, yOff);
    for (let i = 0; i < n; i++) y[yOff + i] = softplus(x[xOff + i]);
  }

  softplusBackward(n: number, x: F32, xOff: number, dy: F32, dyOff: number, dx: F32, dxOff: number): void {
    this.checkBinaryGrad('softplusBackward', n, 'x', x, xOff, dy, dyOff, dx, dxOff);
    for (let i = 0; i < n; i++) dx[dxOff + i] += dy[dyOff + i] * sigmoid(x[xOff + i]);
  }

  // ================================================================== row-wise

  private checkSimnorm(op: string, R: number, D: number, G: number): ShapeCheck {
    const v = this.check.begin(op).dim('R', R).dim('D', D).dim('G', G).checkDims();
    if (G === 0) v.fail(`G must be positive, got ${G}`);
    if (D % G !== 0) v.fail(`D must be divisible by G, got D=${D} G=${G}`);
    return v;
  }

  simnormForward(R: number, D: number, G: number, x: F32, xOff: number, y: F32, yOff: number): void {
    this.checkSimnorm('simnormForward', R, D, G).buffer('x', x, xOff, R * D).buffer('y', y, yOff, R * D);
    for (let r = 0; r < R; r++) {
      for (let g0 = 0; g0 < D; g0 += G) softmaxGroup(x, xOff + r * D + g0, G, y, yOff + r * D + g0);
    }
  }

  simnormBackward(R: number, D: number, G: number, y: F32, yOff: number, dy: F32, dyOff: number, dx: F32, dxOff: number): void {
    this.checkSimnorm('simnormBackward', R, D, G)
      .buffer('y', y, yOff, R * D).buffer('dy', dy, dyOff, R * D).buffer('dx', dx, dxOff, R * D);
    // Softmax backward per group: dx += y ⊙ (dy - Σ_g y·dy).
    for (let g0 = 0; g0 < R * D; g0 += G) {
      let s = 0;
      for (let j = g0; j < g0 + G; j++) s += y[yOff + j] * dy[dyOff + j];
      for (let j = g0; j < g0 + G; j++) dx[dxOff + j] += y[yOff + j] * (dy[dyOff + j] - s);
    }
  }

  softmaxForward(R: number, D: number, x: F32, xOff: number, y: F32, yOff: number): void {
    this.check.begin('softmaxForward').dim('R', R).dim('D', D).checkDims()
      .buffer('x', x, xOff, R * D).buffer('y', y, yOff, R * D);
    for (let r = 0; r < R; r++) softmaxGroup(x, xOff + r * D, D, y, yOff + r * D);
  }

  logSoftmaxForward(R: number, D: number, x: F32, xOff: number, y: F32, yOff: number): void {
    this.check.begin('logSoftmaxForward').dim('R', R).dim('D', D).checkDims()
      .buffer('x', x, xOff, R * D).buffer('y', y, yOff, R * D);
    for (let r = 0; r < R; r++) {
      const lse = logSumExp(x, xOff + r * D, D);
      for (let j = 0; j < D; j++) y[yOff + r * D + j] = x[xOff + r * D + j] - lse;
    }
  }

  // ================================================================== two-hot / symlog

  private checkBins(op: string, count: number, countName: string, NB: number, vmin: number, vmax: number): ShapeCheck {
    const v = this.check.begin(op).dim(countName, count).dim('NB', NB).checkDims();
    if (NB === 0) v.fail(`NB must be at least 1, got ${NB}`);
    if (NB > 1 && !(vmax > vmin && Number.isFinite(vmin) && Number.isFinite(vmax))) {
      v.fail(`vmin and vmax must be finite with vmin < vmax, got vmin=${vmin} vmax=${vmax}`);
    }
    return v;
  }

  twoHotEncode(n: number, NB: number, vmin: number, vmax: number, x: F32, xOff: number, target: F32, targetOff: number): void {
    this.checkBins('twoHotEncode', n, 'n', NB, vmin, vmax).buffer('x', x, xOff, n).buffer('target', target, targetOff, n * NB);
    if (NB === 1) {
      // tdmpc2 (num_bins == 1): the target is the plain symlog value, unclamped.
      for (let i = 0; i < n; i++) target[targetOff + i] = symlog(x[xOff + i]);
      return;
    }
    const width = (vmax - vmin) / (NB - 1);
    for (let i = 0; i < n; i++) {
      const row = targetOff + i * NB;
      const s = symlog(x[xOff + i]);
      // Choice: a NaN input gives a NaN row (so countNonFinite catches it) instead of a made-up bin.
      const fillValue = Number.isNaN(s) ? NaN : 0;
      for (let k = 0; k < NB; k++) target[row + k] = fillValue;
      if (Number.isNaN(s)) continue;
      const t = (Math.min(Math.max(s, vmin), vmax) - vmin) / width;
      let idx = Math.floor(t);
      if (idx < 0) idx = 0;
      if (idx >= NB - 1) {
        target[row + NB - 1] = 1; // at vmax (or rounding just past it): all weight on the last bin
        continue;
      }
      const frac = t - idx;
      target[row + idx] = 1 - frac;
      target[row + idx + 1] = frac;
    }
  }

  twoHotDecode(R: number, NB: number, vmin: number, vmax: number, logits: F32, logitsOff: number, out: F32, outOff: number): void {
    this.checkBins('twoHotDecode', R, 'R', NB, vmin, vmax).buffer('logits', logits, logitsOff, R * NB).buffer('out', out, outOff, R);
    if (NB === 1) {
      // Mirror of twoHotEncode's NB = 1 case (tdmpc2 two_hot_inv): the logit is the symlog value.
      for (let r = 0; r < R; r++) out[outOff + r] = symexp(logits[logitsOff + r]);
      return;
    }
    // Choice: bin k = vmin + k·(vmax - vmin)/(NB - 1), computed in double.
    const width = (vmax - vmin) / (NB - 1);
    for (let r = 0; r < R; r++) {
      const row = logitsOff + r * NB;
      let mx = -Infinity;
      for (let k = 0; k < NB; k++) mx = Math.max(mx, logits[row + k]);
      let z = 0;
      let acc = 0;
      for (let k = 0; k < NB; k++) {
        const e = Math.exp(logits[row + k] - mx);
        z += e;
        acc += e * (vmin + k * width);
      }
      out[outOff + r] = symexp(acc / z);
    }
  }

  softCrossEntropyForward(R: number, NB: number, logits: F32, logitsOff: number, target: F32, targetOff: number, loss: F32, lossOff: number): void {
    this.check.begin('softCrossEntropyForward').dim('R', R).dim('NB', NB).checkDims()
      .buffer('logits', logits, logitsOff, R * NB).buffer('target', target, targetOff, R * NB).buffer('loss', loss, lossOff, R);
    for (let r = 0; r < R; r++) {
      const row = r * NB;
      const lse = logSumExp(logits, logitsOff + row, NB);
      // -Σ t_k (x_k - lse) = Σ t_k (lse - x_k)
      let s = 0;
      for (let k = 0; k < NB; k++) s += target[targetOff + row + k] * (lse - logits[logitsOff + row + k]);
      loss[lossOff + r] = s;
    }
  }

  softCrossEntropyBackward(R: number, NB: number, logits: F32, logitsOff: number, target: F32, targetOff: number, dloss: F32, dlossOff: number, dlogits: F32, dlogitsOff: number): void {
    this.check.begin('softCrossEntropyBackward').dim('R', R).dim('NB', NB).checkDims()
      .buffer('logits', logits, logitsOff, R * NB).buffer('target', target, targetOff, R * NB)
      .buffer('dloss', dloss, dlossOff, R).buffer('dlogits', dlogits, dlogitsOff, R * NB);
    for (let r = 0; r < R; r++) {
      const row = r * NB;
      const lse = logSumExp(logits, logitsOff + row, NB);
      let tsum = 0;
      for (let k = 0; k < NB; k++) tsum += target[targetOff + row + k];
      const d = dloss[dlossOff + r];
      for (let k = 0; k < NB; k++) {
        const p = Math.exp(logits[logitsOff + row + k] - lse);
        dlogits[dlogitsOff + row + k] += d * (p * tsum - target[targetOff + row + k]);
      }
    }
  }

  // ================================================================== Gaussian KL

  gaussianKlForward(n: number, mu1: F32, mu1Off: number, ls1: F32, ls1Off: number, mu2: F32, mu2Off: number, ls2: F32, ls2Off: number, out: F32, outOff: number): void {
    this.check.begin('gaussianKlForward').dim('n', n).checkDims()
      .buffer('mu1', mu1, mu1Off, n).buffer('ls1', ls1, ls1Off, n).buffer('mu2', mu2, mu2Off, n)
      .buffer('ls2', ls2, ls2Off, n).buffer('out', out, outOff, n);
    for (let i = 0; i < n; i++) {
      const a = ls1[ls1Off + i];
      const c = ls2[ls2Off + i];
      const dm = mu1[mu1Off + i] - mu2[mu2Off + i];
      // e^{2 ls1} / e^{2 ls2} as one exp of the difference: no overflow for large equal log-stds.
      out[outOff + i] = c - a + 0.5 * Math.exp(2 * (a - c)) + 0.5 * dm * dm * Math.exp(-2 * c) - 0.5;
    }
  }

  gaussianKlBackward(
    n: number, mu1: F32, mu1Off: number, ls1: F32, ls1Off: number, mu2: F32, mu2Off: number, ls2: F32, ls2Off: number,
    dout: F32, doutOff: number,
    dmu1: F32 | null, dmu1Off: number, dls1: F32 | null, dls1Off: number,
    dmu2: F32 | null, dmu2Off: number, dls2: F32 | null, dls2Off: number,
  ): void {
    this.check.begin('gaussianKlBackward').dim('n', n).checkDims()
      .buffer('mu1', mu1, mu1Off, n).buffer('ls1', ls1, ls1Off, n).buffer('mu2', mu2, mu2Off, n)
      .buffer('ls2', ls2, ls2Off, n).buffer('dout', dout, doutOff, n)
      .optional('dmu1', dmu1, dmu1Off, n).optional('dls1', dls1, dls1Off, n)
      .optional('dmu2', dmu2, dmu2Off, n).optional('dls2', dls2, dls2Off, n);
    for (let i = 0; i < n; i++) {
      const a = ls1[ls1Off + i];
      const c = ls2[ls2Off + i];
      const dm = mu1[mu1Off + i] - mu2[mu2Off + i];
      const g = dout[doutOff + i];
      const invVar2 = Math.exp(-2 * c); // 1 / σ2²
      const ratio = Math.exp(2 * (a - c)); // σ1² / σ2²
      // ∂KL/∂mu1 = dm/σ2², ∂/∂mu2 = -dm/σ2², ∂/∂ls1 = ratio - 1, ∂/∂ls2 = 1 - ratio - dm²/σ2².
      if (dmu1 !== null) dmu1[dmu1Off + i] += g * dm * invVar2;
      if (dmu2 !== null) dmu2[dmu2Off + i] -= g * dm * invVar2;
      if (dls1 !== null) dls1[dls1Off + i] += g * (ratio - 1);
      if (dls2 !== null) dls2[dls2Off + i] += g * (1 - ratio - dm * dm * invVar2);
    }
  }

  // ================================================================== reductions and plumbing

  sum(n: number, x: F32, xOff: number): number {
    this.check.begin('sum').dim('n', n).checkDims().buffer('x', x, xOff, n);
    let s = 0;
    for (let i = 0; i < n; i++) s += x[xOff + i];
    return s;
  }

  sumSquares(n: number, x: F32, xOff: number): number {
    this.check.begin('sumSquares').dim('n', n).checkDims().buffer('x', x, xOff, n);
    let s = 0;
    for (let i = 0; i < n; i++) {
      const t = x[xOff + i];
      s += t * t;
    }
    return s;
  }

  sumRows(R: number, D: number, x: F32, xOff: number, out: F32, outOff: number, accumulate: boolean): void {
    this.check.begin('sumRows').dim('R', R).dim('D', D).flag('accumulate', accumulate).checkDims()
      .buffer('x', x, xOff, R * D).buffer('out', out, outOff, D);
    this.growScratch(D);
    const acc = this.colA;
    acc.fill(0, 0, D);
    for (let r = 0; r < R; r++) {
      const row = xOff + r * D;
      for (let j = 0; j < D; j++) acc[j] += x[row + j];
    }
    for (let j = 0; j < D; j++) out[outOff + j] = accumulate ? out[outOff + j] + acc[j] : acc[j];
  }

  countNonFinite(n: number, x: F32, xOff: number): number {
    this.check.begin('countNonFinite').dim('n', n).checkDims().buffer('x', x, xOff, n);
    let count = 0;
    for (let i = 0; i < n; i++) if (!Number.isFinite(x[xOff + i])) count++;
    return count;
  }

  zeroNonFinite(n: number, x: F32, xOff: number): number {
    this.check.begin('zeroNonFinite').dim('n', n).checkDims().buffer('x', x, xOff, n);
    let count = 0;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(x[xOff + i])) {
        x[xOff + i] = 0;
        count++;
      }
    }
    return count;
  }

  copy(n: number, src: F32, srcOff: number, dst: F32, dstOff: number): void {
    this.check.begin('copy').dim('n', n).checkDims().buffer('src', src, srcOff, n).buffer('dst', dst, dstOff, n)
      .noOverlap('dst', dst, dstOff, n, 'src', src, srcOff, n);
    for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i];
  }

  fill(n: number, value: number, dst: F32, dstOff: number): void {
    this.check.begin('fill').dim('n', n).checkDims().buffer('dst', dst, dstOff, n);
    dst.fill(value, dstOff, dstOff + n);
  }

  axpy(n: number, a: number, x: F32, xOff: number, y: F32, yOff: number): void {
    this.check.begin('axpy').dim('n', n).checkDims().buffer('x', x, xOff, n).buffer('y', y, yOff, n);
    for (let i = 0; i < n; i++) y[yOff + i] += a * x[xOff + i];
  }

  mul(n: number, a: F32, aOff: number, b: F32, bOff: number, out: F32, outOff: number): void {
    const v = this.check.begin('mul').dim('n', n).checkDims().buffer('a', a, aOff, n).buffer('b', b, bOff, n).buffer('out', out, outOff, n);
    // Elementwise: in place on the very same range is fine, a shifted overlap is not.
    if (!sameRange(out, outOff, a, aOff)) v.noOverlap('out', out, outOff, n, 'a', a, aOff, n);
    if (!sameRange(out, outOff, b, bOff)) v.noOverlap('out', out, outOff, n, 'b', b, bOff, n);
    for (let i = 0; i < n; i++) out[outOff + i] = a[aOff + i] * b[bOff + i];
  }

  scale(n: number, a: number, x: F32, xOff: number): void {
    this.check.begin('scale').dim('n', n).checkDims().buffer('x', x, xOff, n);
    for (let i = 0; i < n; i++) x[xOff + i] *= a;
  }

  concatColumns(R: number, D1: number, D2: number, a: F32, aOff: number, b: F32, bOff: number, out: F32, outOff: number): void {
    this.check.begin('concatColumns').dim('R', R).dim('D1', D1).dim('D2', D2).checkDims()
      .buffer('a', a, aOff, R * D1).buffer('b', b, bOff, R * D2).buffer('out', out, outOff, R * (D1 + D2))
      .noOverlap('out', out, outOff, R * (D1 + D2), 'a', a, aOff, R * D1)
      .noOverlap('out', out, outOff, R * (D1 + D2), 'b', b, bOff, R * D2);
    const D = D1 + D2;
    for (let r = 0; r < R; r++) {
      for (let j = 0; j < D1; j++) out[outOff + r * D + j] = a[aOff + r * D1 + j];
      for (let j = 0; j < D2; j++) out[outOff + r * D + D1 + j] = b[bOff + r * D2 + j];
    }
  }

  splitColumnsBackward(R: number, D1: number, D2: number, dout: F32, doutOff: number, da: F32 | null, daOff: number, db: F32 | null, dbOff: number): void {
    this.check.begin('splitColumnsBackward').dim('R', R).dim('D1', D1).dim('D2', D2).checkDims()
      .buffer('dout', dout, doutOff, R * (D1 + D2)).optional('da', da, daOff, R * D1).optional('db', db, dbOff, R * D2)
      .noOverlap('da', da, daOff, R * D1, 'dout', dout, doutOff, R * (D1 + D2))
      .noOverlap('db', db, dbOff, R * D2, 'dout', dout, doutOff, R * (D1 + D2));
    const D = D1 + D2;
    for (let r = 0; r < R; r++) {
      if (da !== null) for (let j = 0; j < D1; j++) da[daOff + r * D1 + j] += dout[doutOff + r * D + j];
      if (db !== null) for (let j = 0; j < D2; j++) db[dbOff + r * D2 + j] += dout[doutOff + r * D + D1 + j];
    }
  }

  // ================================================================== optimizer

  adamStep(
    n: number, params: F32, pOff: number, grads: F32, gOff: number, m: F32, mOff: number, v: F32, vOff: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean,
    gradScale: number, step: number,
  ): void {
    const c = this.check.begin('adamStep').dim('n', n).dim('step', step).flag('decoupled', decoupled).checkDims();
    if (step === 0) c.fail(`step must be at least 1 (1-based), got ${step}`);
    c.buffer('params', params, pOff, n).buffer('grads', grads, gOff, n).buffer('m', m, mOff, n).buffer('v', v, vOff, n);
    const bc1 = 1 - Math.pow(beta1, step);
    const bc2 = 1 - Math.pow(beta2, step);
    for (let i = 0; i < n; i++) {
      let p = params[pOff + i];
      let g = grads[gOff + i] * gradScale;
      if (decoupled) p -= lr * weightDecay * p;
      else g += weightDecay * p;
      m[mOff + i] = beta1 * m[mOff + i] + (1 - beta1) * g;
      v[vOff + i] = beta2 * v[vOff + i] + (1 - beta2) * g * g;
      // Choice: the update reads the stored moments (PyTorch keeps m, v as float32 state tensors).
      const mHat = m[mOff + i] / bc1;
      const vHat = v[vOff + i] / bc2;
      params[pOff + i] = p - lr * mHat / (Math.sqrt(vHat) + eps);
    }
  }

  polyak(n: number, tau: number, source: F32, sOff: number, target: F32, tOff: number): void {
    this.check.begin('polyak').dim('n', n).checkDims().buffer('source', source, sOff, n).buffer('target', target, tOff, n);
    for (let i = 0; i < n; i++) {
      const t = target[tOff + i];
      target[tOff + i] = t + tau * (source[sOff + i] - t);
    }
  }

  // ================================================================== RNG (definition in rng.ts)

  private checkRng(op: string, n: number, seed: number, counter: number, out: F32, outOff: number): void {
    const v = this.check.begin(op).dim('n', n).dim('seed', seed).dim('counter', counter).checkDims();
    if (seed > 0xffffffff) v.fail(`seed must be a uint32, got ${seed}`);
    if (counter > TWO_POW_53 - n) v.fail(`counter + n must not exceed 2^53, got counter=${counter} n=${n}`);
    v.buffer('out', out, outOff, n);
  }

  randomUniform(n: number, seed: number, counter: number, lo: number, hi: number, out: F32, outOff: number): void {
    this.checkRng('randomUniform', n, seed, counter, out, outOff);
    const key0 = rngKey(seed, 0);
    const range = hi - lo;
    for (let i = 0; i < n; i++) {
      const u = (rngWord(key0, counter + i) >>> 8) * UNIT_24;
      out[outOff + i] = lo + range * u;
    }
  }

  randomNormal(n: number, seed: number, counter: number, mean: number, std: number, out: F32, outOff: number): void {
    this.checkRng('randomNormal', n, seed, counter, out, outOff);
    const key0 = rngKey(seed, 0);
    const key1 = rngKey(seed, 1);
    for (let i = 0; i < n; i++) {
      const c = counter + i;
      const u1 = ((rngWord(key0, c) >>> 8) + 1) * UNIT_24;
      const u2 = (rngWord(key1, c) >>> 8) * UNIT_24;
      const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      out[outOff + i] = mean + std * z;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Row helpers (unchecked), shared by softmax, SimNorm, two-hot and cross-entropy.

/** log Σ_j e^{x[off+j]} over D values, max-shifted (-Infinity when D = 0). */
function logSumExp(x: ArrayLike<number>, off: number, D: number): number {
  let mx = -Infinity;
  for (let j = 0; j < D; j++) mx = Math.max(mx, x[off + j]);
  if (mx === -Infinity) return -Infinity; // empty row or all -Inf: avoid -Inf - -Inf = NaN
  let z = 0;
  for (let j = 0; j < D; j++) z += Math.exp(x[off + j] - mx);
  return mx + Math.log(z);
}

/** y[yOff + j] = softmax of x[xOff .. xOff+G) (max-shifted; computed in doubles). */
function softmaxGroup(x: ArrayLike<number>, xOff: number, G: number, y: F32, yOff: number): void {
  let mx = -Infinity;
  for (let j = 0; j < G; j++) mx = Math.max(mx, x[xOff + j]);
  let z = 0;
  for (let j = 0; j < G; j++) z += Math.exp(x[xOff + j] - mx);
  const inv = 1 / z;
  for (let j = 0; j < G; j++) y[yOff + j] = Math.exp(x[xOff + j] - mx) * inv;
}
