// The native backend: a thin pass-through to the C++ addon in native/ (built by `npm install`,
// see scripts/build-native.mjs). Each method hands its Float32Arrays and integer offsets straight
// to C++, which validates every size and offset (throwing this module's ShapeError with the JS
// engine's messages) before touching memory, so out-of-bounds access is impossible. Arrays on
// SharedArrayBuffers are used in place (zero-copy): native writes are visible to every thread.
//
// One engine instance owns one persistent native thread pool (threads - 1 workers plus the calling
// thread); dispose() joins it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShapeError } from '../errors.js';
import type { Activation, Engine, F32 } from './engine.js';

/** The addon's engine object: the Engine methods plus the extras below (see native/src/binding). */
export interface NativeAddonEngine extends Omit<Engine, 'name' | 'adamStep'> {
  adamStep(
    n: number, params: F32, pOff: number, grads: F32, gOff: number, m: F32, mOff: number, v: F32, vOff: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean,
    gradScale: number, step: number, biasCorrection1: number, biasCorrection2: number,
  ): void;
  /** FMA-loop throughput of this engine's SIMD path over all its threads, in GFLOP/s. */
  peakGflops(seconds: number): number;
}

export interface NativeAddon {
  NativeEngine: new (threads: number, simd: string | undefined, errorClass: typeof ShapeError, guestSeats?: number) => NativeAddonEngine;
  /** Lends the calling thread to the engine listed under id while i32[index] === expected (threadpool.h). */
  helpEngine(id: number, i32: Int32Array, index: number, expected: number, maxMs: number): number;
  /** Best SIMD path of this CPU: 'avx512' | 'avx2' | 'scalar'. */
  bestSimd: string;
  abiVersion: number;
}

const ADDON_RELATIVE = join('native', 'build', 'Release', 'tdmpc_native.node');

/**
 * The package root: the nearest folder above this file that holds native/binding.gyp. Works from
 * src/engine/ (vitest, tsx) and from dist/src/engine/ (after tsc).
 */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'native', 'binding.gyp'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** Absolute path of the built addon (it may not exist; see nativeLoadError). */
export function nativeAddonPath(): string {
  return join(packageRoot(), ADDON_RELATIVE);
}

let addon: NativeAddon | null | undefined;
let loadError = '';

/** Loads the addon once per thread; null (and nativeLoadError() says why) when it is unavailable. */
export function loadNativeAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  const path = nativeAddonPath();
  try {
    if (!existsSync(path)) throw new Error(`${path} is not built`);
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (err) {
    loadError = err instanceof Error ? err.message : String(err);
    addon = null;
  }
  return addon;
}

/** Why the native engine could not be loaded ('' when it loaded or was never tried). */
export function nativeLoadError(): string {
  return loadError;
}

/**
 * A native engine with `threads` threads, or null when the addon is not built or does not load.
 * simd forces a lower SIMD path ('avx2' | 'scalar'); by default env TDMPC_SIMD, else the best.
 */
export function loadNativeEngine(threads: number, simd?: string, guestSeats = 0): Engine | null {
  const mod = loadNativeAddon();
  if (mod === null) return null;
  return new NativeEngine(new mod.NativeEngine(threads, simd, ShapeError, guestSeats));
}

export class NativeEngine implements Engine {
  readonly name = 'native';
  readonly threads: number;
  readonly simd: string;
  private readonly n: NativeAddonEngine;

  constructor(native: NativeAddonEngine) {
    this.n = native;
    this.threads = native.threads;
    this.simd = native.simd;
  }

  dispose(): void {
    this.n.dispose();
  }

  offerGuestSeat(id: number): boolean {
    return this.n.offerGuestSeat(id);
  }

  /** FMA-loop peak of this engine's SIMD path on all its threads (GFLOP/s), measured for `seconds`. */
  peakGflops(seconds = 0.5): number {
    return this.n.peakGflops(seconds);
  }

  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: F32, aOff: number, B: F32, bOff: number, C: F32, cOff: number,
    bias: F32 | null, biasOff: number, accumulate: boolean,
  ): void {
    this.n.gemm(transA, transB, M, N, K, A, aOff, B, bOff, C, cOff, bias, biasOff, accumulate);
  }

  gemmBatched(
    count: number, transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: F32, aOff: number, aStride: number, B: F32, bOff: number, bStride: number,
    C: F32, cOff: number, cStride: number,
    bias: F32 | null, biasOff: number, biasStride: number, accumulate: boolean,
  ): void {
    this.n.gemmBatched(count, transA, transB, M, N, K, A, aOff, aStride, B, bOff, bStride, C, cOff, cStride,
      bias, biasOff, biasStride, accumulate);
  }

  normedLinearForward(
    R: number, inDim: number, outDim: number, act: Activation, group: number,
    x: F32, xOff: number, W: F32, wOff: number, b: F32, bOff: number,
    gamma: F32, gammaOff: number, beta: F32, betaOff: number,
    mask: F32 | null, maskOff: number,
    lin: F32, linOff: number, mean: F32, meanOff: number, rstd: F32, rstdOff: number,
    out: F32, outOff: number,
  ): void {
    this.n.normedLinearForward(R, inDim, outDim, act, group, x, xOff, W, wOff, b, bOff, gamma, gammaOff,
      beta, betaOff, mask, maskOff, lin, linOff, mean, meanOff, rstd, rstdOff, out, outOff);
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
    this.n.normedLinearBackward(R, inDim, outDim, act, group, x, xOff, W, wOff, gamma, gammaOff, beta, betaOff,
      mask, maskOff, lin, linOff, mean, meanOff, rstd, rstdOff, out, outOff, dout, doutOff, dx, dxOff, dW, dwOff,
      db, dbOff, dgamma, dgammaOff, dbeta, dbetaOff, scratch, scratchOff);
  }

  mishForward(n: number, x: F32, xOff: number, y: F32, yOff: number): void {
    this.n.mishForward(n, x, xOff, y, yOff);
  }
  mishBackward(n: number, x: F32, xOff: number, dy: F32, dyOff: number, dx: F32, dxOff: number): void {
    this.n.mishBackward(n, x, xOff, dy, dyOff, dx, dxOff);
  }
  tanhForward(n: number, x: F32, xOff: number, y: F32, yOff: number): void {
    this.n.tanhForward(n, x, xOff, y, yOff);
  }
  tanhBackward(n: number, y: F32, yOff: number, dy: F32, dyOff: number, dx: F32, dxOff: number): void {
    this.n.tanhBackward(n, y, yOff, dy, dyOff, dx, dxOff);
  }
  softplusForward(n: number, x: F32, xOff: number, y: F32, yOff: number): void {
    this.n.softplusForward(n, x, xOff, y, yOff);
  }
  softplusBackward(n: number, x: F32, xOff: number, dy: F32, dyOff: number, dx: F32, dxOff: number): void {
    this.n.softplusBackward(n, x, xOff, dy, dyOff, dx, dxOff);
  }

  simnormForward(R: number, D: number, G: number, x: F32, xOff: number, y: F32, yOff: number): void {
    this.n.simnormForward(R, D, G, x, xOff, y, yOff);
  }
  simnormBackward(R: number, D: number, G: number, y: F32, yOff: number, dy: F32, dyOff: number, dx: F32, dxOff: number): void {
    this.n.simnormBackward(R, D, G, y, yOff, dy, dyOff, dx, dxOff);
  }
  softmaxForward(R: number, D: number, x: F32, xOff: number, y: F32, yOff: number): void {
    this.n.softmaxForward(R, D, x, xOff, y, yOff);
  }
  logSoftmaxForward(R: number, D: number, x: F32, xOff: number, y: F32, yOff: number): void {
    this.n.logSoftmaxForward(R, D, x, xOff, y, yOff);
  }

  twoHotEncode(n: number, NB: number, vmin: number, vmax: number, x: F32, xOff: number, target: F32, targetOff: number): void {
    this.n.twoHotEncode(n, NB, vmin, vmax, x, xOff, target, targetOff);
  }
  twoHotDecode(R: number, NB: number, vmin: number, vmax: number, logits: F32, logitsOff: number, out: F32, outOff: number): void {
    this.n.twoHotDecode(R, NB, vmin, vmax, logits, logitsOff, out, outOff);
  }
  softCrossEntropyForward(R: number, NB: number, logits: F32, logitsOff: number, target: F32, targetOff: number, loss: F32, lossOff: number): void {
    this.n.softCrossEntropyForward(R, NB, logits, logitsOff, target, targetOff, loss, lossOff);
  }
  softCrossEntropyBackward(R: number, NB: number, logits: F32, logitsOff: number, target: F32, targetOff: number, dloss: F32, dlossOff: number, dlogits: F32, dlogitsOff: number): void {
    this.n.softCrossEntropyBackward(R, NB, logits, logitsOff, target, targetOff, dloss, dlossOff, dlogits, dlogitsOff);
  }

  gaussianKlForward(n: number, mu1: F32, mu1Off: number, ls1: F32, ls1Off: number, mu2: F32, mu2Off: number, ls2: F32, ls2Off: number, out: F32, outOff: number): void {
    this.n.gaussianKlForward(n, mu1, mu1Off, ls1, ls1Off, mu2, mu2Off, ls2, ls2Off, out, outOff);
  }
  gaussianKlBackward(
    n: number, mu1: F32, mu1Off: number, ls1: F32, ls1Off: number, mu2: F32, mu2Off: number, ls2: F32, ls2Off: number,
    dout: F32, doutOff: number,
    dmu1: F32 | null, dmu1Off: number, dls1: F32 | null, dls1Off: number,
    dmu2: F32 | null, dmu2Off: number, dls2: F32 | null, dls2Off: number,
  ): void {
    this.n.gaussianKlBackward(n, mu1, mu1Off, ls1, ls1Off, mu2, mu2Off, ls2, ls2Off, dout, doutOff,
      dmu1, dmu1Off, dls1, dls1Off, dmu2, dmu2Off, dls2, dls2Off);
  }

  sum(n: number, x: F32, xOff: number): number {
    return this.n.sum(n, x, xOff);
  }
  sumSquares(n: number, x: F32, xOff: number): number {
    return this.n.sumSquares(n, x, xOff);
  }
  sumRows(R: number, D: number, x: F32, xOff: number, out: F32, outOff: number, accumulate: boolean): void {
    this.n.sumRows(R, D, x, xOff, out, outOff, accumulate);
  }
  countNonFinite(n: number, x: F32, xOff: number): number {
    return this.n.countNonFinite(n, x, xOff);
  }
  zeroNonFinite(n: number, x: F32, xOff: number): number {
    return this.n.zeroNonFinite(n, x, xOff);
  }
  copy(n: number, src: F32, srcOff: number, dst: F32, dstOff: number): void {
    this.n.copy(n, src, srcOff, dst, dstOff);
  }
  fill(n: number, value: number, dst: F32, dstOff: number): void {
    this.n.fill(n, value, dst, dstOff);
  }
  axpy(n: number, a: number, x: F32, xOff: number, y: F32, yOff: number): void {
    this.n.axpy(n, a, x, xOff, y, yOff);
  }
  mul(n: number, a: F32, aOff: number, b: F32, bOff: number, out: F32, outOff: number): void {
    this.n.mul(n, a, aOff, b, bOff, out, outOff);
  }
  scale(n: number, a: number, x: F32, xOff: number): void {
    this.n.scale(n, a, x, xOff);
  }
  concatColumns(R: number, D1: number, D2: number, a: F32, aOff: number, b: F32, bOff: number, out: F32, outOff: number): void {
    this.n.concatColumns(R, D1, D2, a, aOff, b, bOff, out, outOff);
  }
  splitColumnsBackward(R: number, D1: number, D2: number, dout: F32, doutOff: number, da: F32 | null, daOff: number, db: F32 | null, dbOff: number): void {
    this.n.splitColumnsBackward(R, D1, D2, dout, doutOff, da, daOff, db, dbOff);
  }

  adamStep(
    n: number, params: F32, pOff: number, grads: F32, gOff: number, m: F32, mOff: number, v: F32, vOff: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean,
    gradScale: number, step: number,
  ): void {
    // Bias corrections with Math.pow here, so both backends use the very same values.
    this.n.adamStep(n, params, pOff, grads, gOff, m, mOff, v, vOff, lr, beta1, beta2, eps, weightDecay, decoupled,
      gradScale, step, 1 - Math.pow(beta1, step), 1 - Math.pow(beta2, step));
  }
  polyak(n: number, tau: number, source: F32, sOff: number, target: F32, tOff: number): void {
    this.n.polyak(n, tau, source, sOff, target, tOff);
  }

  randomUniform(n: number, seed: number, counter: number, lo: number, hi: number, out: F32, outOff: number): void {
    this.n.randomUniform(n, seed, counter, lo, hi, out, outOff);
  }
  randomNormal(n: number, seed: number, counter: number, mean: number, std: number, out: F32, outOff: number): void {
    this.n.randomNormal(n, seed, counter, mean, std, out, outOff);
  }
}
