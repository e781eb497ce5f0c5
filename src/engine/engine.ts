// The kernel interface: the one narrow surface that every compute backend implements.
//
// Backends: `native` (C++ Node-API addon in native/, AVX-512/AVX2/scalar picked at run time) and `js`
// (src/engine/js-engine.ts, plain TypeScript, the oracle in tests). A GPU backend later implements
// this same interface.
//
// Conventions (llm.c style):
// - All tensors are row-major float32, addressed as (array, offset): the array is any Float32Array
//   (plain or SharedArrayBuffer-backed) and the offset is in floats. Kernels never allocate per call.
// - Outputs come first in the doc comments' shape lists; every pointer has its shape.
// - Backward kernels ACCUMULATE (+=) into their gradient outputs; the caller zeroes them once per
//   step (one fill over the flat gradient buffer). Forward kernels OVERWRITE their outputs unless an
//   `accumulate` flag says otherwise.
// - Every kernel validates its sizes before touching memory and throws a ShapeError whose message
//   starts with the kernel name and lists the shapes, e.g.
//   "gemm: B needs 262144 floats from offset 0 but has 1000 (M=536 N=512 K=512 transA=0 transB=1)".
//   Integer sizes must be non-negative integers; a null optional buffer is allowed where documented.
// - Results must not depend on the thread count (determinism: 1 and 2 threads give bit-identical
//   outputs). Threaded kernels split work by rows/panels, never by reduction order.
//
// Dims used below: M, N, K (GEMM), R = rows, D = feature dim, G = SimNorm group size, NB = bins.

/** Output activation of a fused NormedLinear layer. */
export const ACT_NONE = 0;
export const ACT_MISH = 1;
export const ACT_SIMNORM = 2;
export type Activation = typeof ACT_NONE | typeof ACT_MISH | typeof ACT_SIMNORM;

export type F32 = Float32Array;

export interface Engine {
  /** 'native' or 'js' (later 'gpu'). */
  readonly name: string;
  /** Threads this engine instance computes with (the calling thread counts as one). */
  readonly threads: number;
  /** SIMD path chosen at run time: 'avx512' | 'avx2' | 'scalar' (js backend: 'js'). */
  readonly simd: string;
  /** Stops the engine's worker threads. The engine must not be used afterwards. */
  dispose(): void;
  /**
   * Lists this engine, process-wide, under `id` so that another thread's helpEngine(id, ...) can
   * compute its kernels' tasks while that thread has nothing else to do. Needs an engine created
   * with guestSeats: 1; returns false otherwise (and always on the JS engine).
   */
  offerGuestSeat(id: number): boolean;

  // ------------------------------------------------------------------ GEMM
  /**
   * C[M,N] = op(A)[M,K] · op(B)[K,N] (+ bias[N] broadcast over rows) (+ C if accumulate).
   * op(A) = A stored [M,K] when !transA, else A stored [K,M] (used transposed).
   * op(B) = B stored [K,N] when !transB, else B stored [N,K] (used transposed).
   * A Linear layer y = x·Wᵀ + b with W [out,in] is gemm(false, true, R, out, in, x, W, y, b).
   * bias may be null (biasOff ignored). K = 0 gives C = bias (or C unchanged when accumulate).
   */
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: F32, aOff: number, B: F32, bOff: number, C: F32, cOff: number,
    bias: F32 | null, biasOff: number, accumulate: boolean,
  ): void;

  /**
   * count independent GEMMs in one call (ensembles: K heads). Problem i uses
   * A at aOff + i*aStride, B at bOff + i*bStride, C at cOff + i*cStride, bias at biasOff + i*biasStride.
   * A stride of 0 shares that operand across problems (e.g. the same input for every head).
   */
  gemmBatched(
    count: number, transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: F32, aOff: number, aStride: number, B: F32, bOff: number, bStride: number,
    C: F32, cOff: number, cStride: number,
    bias: F32 | null, biasOff: number, biasStride: number, accumulate: boolean,
  ): void;

  // ------------------------------------------------------------------ fused NormedLinear
  /**
   * NormedLinear forward (TD-MPC2 order): lin = (x·Wᵀ + b) ⊙ mask; y = LayerNorm(lin)·gamma + beta
   * (eps 1e-5, biased variance); out = act(y) where act is none, Mish, or SimNorm(group G).
   * Saves for backward: lin [R,out], mean [R], rstd [R]. out may not alias lin.
   *   x [R,in], W [out,in], b [out], gamma [out], beta [out], mask [R,out] or null (values 0 or
   *   1/(1-p): inverted dropout), lin [R,out], mean [R], rstd [R], out [R,out].
   */
  normedLinearForward(
    R: number, inDim: number, outDim: number, act: Activation, group: number,
    x: F32, xOff: number, W: F32, wOff: number, b: F32, bOff: number,
    gamma: F32, gammaOff: number, beta: F32, betaOff: number,
    mask: F32 | null, maskOff: number,
    lin: F32, linOff: number, mean: F32, meanOff: number, rstd: F32, rstdOff: number,
    out: F32, outOff: number,
  ): void;

  /**
   * Backward of normedLinearForward, given the saved lin/mean/rstd/out and dout [R,out].
   * Accumulates dW [out,in], db [out], dgamma [out], dbeta [out], and dx [R,in] unless dx is null.
   * scratch [R,out] is overwritten (holds dlin).
   */
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
  ): void;

  // ------------------------------------------------------------------ elementwise (n elements)
  /** y = x·tanh(softplus(x)). */
  mishForward(n: number, x: F32, xOff: number, y: F32, yOff: number): void;
  /** dx += dy · mish'(x). */
  mishBackward(n: number, x: F32, xOff: number, dy: F32, dyOff: number, dx: F32, dxOff: number): void;
  /** y = tanh(x). */
  tanhForward(n: number, x: F32, xOff: number, y: F32, yOff: number): void;
  /** dx += dy · (1 - y²), with y the forward output. */
  tanhBackward(n: number, y: F32, yOff: number, dy: F32, dyOff: number, dx: F32, dxOff: number): void;
  /** y = log(1 + e^x), computed stably. */
  softplusForward(n: number, x: F32, xOff: number, y: F32, yOff: number): void;
  /** dx += dy · sigmoid(x). */
  softplusBackward(n: number, x: F32, xOff: number, dy: F32, dyOff: number, dx: F32, dxOff: number): void;

  // ------------------------------------------------------------------ row-wise
  /** SimNorm: y [R,D] = softmax over each consecutive group of G features of x [R,D]; D % G == 0. */
  simnormForward(R: number, D: number, G: number, x: F32, xOff: number, y: F32, yOff: number): void;
  /** dx [R,D] += SimNorm backward given y (forward output) and dy. */
  simnormBackward(R: number, D: number, G: number, y: F32, yOff: number, dy: F32, dyOff: number, dx: F32, dxOff: number): void;
  /** y [R,D] = softmax of each row of x. */
  softmaxForward(R: number, D: number, x: F32, xOff: number, y: F32, yOff: number): void;
  /** y [R,D] = log_softmax of each row of x. */
  logSoftmaxForward(R: number, D: number, x: F32, xOff: number, y: F32, yOff: number): void;

  // ------------------------------------------------------------------ two-hot / symlog
  /**
   * target [n,NB] = two-hot encoding of symlog(x[i]) on NB bins spanning [vmin, vmax]
   * (bin width (vmax-vmin)/(NB-1); value clamped to the range; weight split between the two
   * neighbouring bins; NB = 1 means plain symlog in target[i]).
   */
  twoHotEncode(n: number, NB: number, vmin: number, vmax: number, x: F32, xOff: number, target: F32, targetOff: number): void;
  /** out [R] = symexp(Σ_k softmax(logits)[k] · bin_k): the scalar decoded from two-hot logits [R,NB]. */
  twoHotDecode(R: number, NB: number, vmin: number, vmax: number, logits: F32, logitsOff: number, out: F32, outOff: number): void;
  /** loss [R] = -Σ_k target[k] · log_softmax(logits)[k]  (soft cross-entropy). */
  softCrossEntropyForward(R: number, NB: number, logits: F32, logitsOff: number, target: F32, targetOff: number, loss: F32, lossOff: number): void;
  /** dlogits [R,NB] += dloss[r] · (softmax(logits)·Σ_k target[k] - target). */
  softCrossEntropyBackward(R: number, NB: number, logits: F32, logitsOff: number, target: F32, targetOff: number, dloss: F32, dlossOff: number, dlogits: F32, dlogitsOff: number): void;

  // ------------------------------------------------------------------ Gaussian KL
  /**
   * out [n] = KL(N(mu1, e^{ls1}) || N(mu2, e^{ls2})) per element
   *         = ls2 - ls1 + (e^{2 ls1} + (mu1 - mu2)²) / (2 e^{2 ls2}) - 1/2.
   */
  gaussianKlForward(n: number, mu1: F32, mu1Off: number, ls1: F32, ls1Off: number, mu2: F32, mu2Off: number, ls2: F32, ls2Off: number, out: F32, outOff: number): void;
  /** Accumulates dout·∂KL/∂· into each non-null gradient (dmu1, dls1, dmu2, dls2), each [n]. */
  gaussianKlBackward(
    n: number, mu1: F32, mu1Off: number, ls1: F32, ls1Off: number, mu2: F32, mu2Off: number, ls2: F32, ls2Off: number,
    dout: F32, doutOff: number,
    dmu1: F32 | null, dmu1Off: number, dls1: F32 | null, dls1Off: number,
    dmu2: F32 | null, dmu2Off: number, dls2: F32 | null, dls2Off: number,
  ): void;

  // ------------------------------------------------------------------ reductions and plumbing
  /** Σ x[i] over n elements (accumulated in float64). */
  sum(n: number, x: F32, xOff: number): number;
  /** Σ x[i]² over n elements (accumulated in float64). */
  sumSquares(n: number, x: F32, xOff: number): number;
  /** out [D] (+)= Σ_r x[r, :] for x [R,D] (bias gradients); accumulate adds into out. */
  sumRows(R: number, D: number, x: F32, xOff: number, out: F32, outOff: number, accumulate: boolean): void;
  /** Number of NaN/Inf among n elements. */
  countNonFinite(n: number, x: F32, xOff: number): number;
  /** Sets NaN/Inf elements to 0 and returns how many there were. */
  zeroNonFinite(n: number, x: F32, xOff: number): number;
  /** dst[i] = src[i] for n elements (ranges may not overlap). */
  copy(n: number, src: F32, srcOff: number, dst: F32, dstOff: number): void;
  /** dst[i] = value for n elements. */
  fill(n: number, value: number, dst: F32, dstOff: number): void;
  /** y[i] += a · x[i]. */
  axpy(n: number, a: number, x: F32, xOff: number, y: F32, yOff: number): void;
  /** x[i] *= a. */
  scale(n: number, a: number, x: F32, xOff: number): void;
  /**
   * out[i] = a[i] · b[i] (dropout masks applied after an activation, and their backward). out may
   * be exactly a or b (in place); any other overlap is refused.
   */
  mul(n: number, a: F32, aOff: number, b: F32, bOff: number, out: F32, outOff: number): void;
  /**
   * out [R, D1+D2] = [a | b] row by row, a [R,D1], b [R,D2] (dynamics/reward input z ⊕ a).
   */
  concatColumns(R: number, D1: number, D2: number, a: F32, aOff: number, b: F32, bOff: number, out: F32, outOff: number): void;
  /** da [R,D1] += dout[:, :D1], db [R,D2] += dout[:, D1:]; either may be null. */
  splitColumnsBackward(R: number, D1: number, D2: number, dout: F32, doutOff: number, da: F32 | null, daOff: number, db: F32 | null, dbOff: number): void;

  // ------------------------------------------------------------------ optimizer
  /**
   * One Adam/AdamW step over n parameters (a flat segment; call per segment for per-module
   * learning rates). g_eff = g · gradScale (gradScale implements global-norm clipping: the caller
   * computes sqrt(sumSquares(grads)) once and passes min(1, maxNorm / norm)).
   *   decoupled = false (Adam, L2): g_eff += weightDecay · p.
   *   m = β1 m + (1-β1) g_eff;  v = β2 v + (1-β2) g_eff²;
   *   p -= lr · (m / (1-β1^step)) / (sqrt(v / (1-β2^step)) + eps)
   *   decoupled = true (AdamW): additionally p -= lr · weightDecay · p (before the Adam step).
   * step is the 1-based step count used for bias correction.
   */
  adamStep(
    n: number, params: F32, pOff: number, grads: F32, gOff: number, m: F32, mOff: number, v: F32, vOff: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean,
    gradScale: number, step: number,
  ): void;
  /** Polyak/EMA update: target[i] += tau · (source[i] - target[i]). */
  polyak(n: number, tau: number, source: F32, sOff: number, target: F32, tOff: number): void;

  // ------------------------------------------------------------------ RNG (counter-based)
  /**
   * Counter-based RNG: element i gets the value defined by src/engine/rng.ts for
   * (seed, counter + i). Output does not depend on threads or on how a range is split into calls.
   * seed is a uint32; counter is an integer < 2^53.
   */
  randomUniform(n: number, seed: number, counter: number, lo: number, hi: number, out: F32, outOff: number): void;
  /** Standard normal · std + mean, per element, from the same counter stream (Box-Muller, one normal per counter). */
  randomNormal(n: number, seed: number, counter: number, mean: number, std: number, out: F32, outOff: number): void;
}

/** Which backend to create: env TDMPC_ENGINE=native|js overrides 'auto' (native if built, else js). */
export type EngineKind = 'auto' | 'native' | 'js';

export interface EngineOptions {
  /** Threads for this engine instance (an actor uses 1, the learner several). Default 1. */
  threads?: number;
  /**
   * Seats for a guest thread (0 or 1, native only): kernels split their work as if for
   * threads + guestSeats threads and run it on their own threads whenever no guest helps, with
   * bit-identical results either way. See offerGuestSeat / helpEngine.
   */
  guestSeats?: number;
  kind?: EngineKind;
}
