// Engine factory: picks the native addon when it is built, the TypeScript reference otherwise.
// TDMPC_ENGINE=native|js overrides the choice (js is the oracle in tests).
import { JsEngine } from './js-engine.js';
import { loadNativeAddon, loadNativeEngine, nativeLoadError } from './native-engine.js';
import type { Engine, EngineKind, EngineOptions } from './engine.js';
import { ConfigError } from '../errors.js';

export * from './engine.js';

let warnedFallback = false;

const SIMD_PATHS = ['avx512', 'avx2', 'scalar'];

/**
 * Checks the engine's environment variables (TDMPC_ENGINE, TDMPC_SIMD), so that a typo stops a
 * command before any work with a ConfigError naming the variable and its values, instead of
 * failing later inside a worker thread. createEngine calls it too.
 */
export function checkEngineEnvironment(): void {
  const engine = process.env.TDMPC_ENGINE;
  if (engine !== undefined && engine !== '' && engine !== 'native' && engine !== 'js' && engine !== 'auto') {
    throw new ConfigError(`TDMPC_ENGINE=${engine} is not a backend; use TDMPC_ENGINE=native, js or auto (or leave it unset)`);
  }
  const simd = process.env.TDMPC_SIMD;
  if (simd !== undefined && simd !== '' && !SIMD_PATHS.includes(simd)) {
    throw new ConfigError(`TDMPC_SIMD=${simd} is not a SIMD path; use TDMPC_SIMD=avx2 or scalar to force a lower one `
      + `(avx512 is the best when the CPU has it; leave it unset for the best)`);
  }
}

function requestedKind(kind: EngineKind | undefined): EngineKind {
  checkEngineEnvironment();
  const env = process.env.TDMPC_ENGINE;
  if (env !== undefined && env !== '') return env as EngineKind;
  return kind ?? 'auto';
}

export function createEngine(options: EngineOptions = {}): Engine {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new RangeError(`engine threads must be an integer in [1, 64], got ${threads}`);
  }
  const guestSeats = options.guestSeats ?? 0;
  if (guestSeats !== 0 && guestSeats !== 1) throw new RangeError(`engine guestSeats must be 0 or 1, got ${guestSeats}`);
  const kind = requestedKind(options.kind);
  if (kind === 'js') return new JsEngine(threads);
  const native = loadNativeEngine(threads, undefined, guestSeats);
  if (native) return native;
  if (kind === 'native') {
    throw new Error(`native engine requested but not loadable: ${nativeLoadError()}; run \`npm install\` to build it`);
  }
  if (!warnedFallback) {
    warnedFallback = true;
    console.warn(`tdmpc: native engine unavailable (${nativeLoadError()}); using the slow TypeScript reference backend`);
  }
  return new JsEngine(threads);
}

/**
 * Lends the calling thread to the engine listed under `id` (Engine.offerGuestSeat) while
 * Atomics.load(i32, index) === expected, for at most maxMs: the thread computes tasks of that
 * engine's kernels as they come. Returns the kernel jobs joined; -1 if another thread is already
 * helping or the engine is shutting down; -2 if no engine is listed under `id` (or the native
 * addon is not loaded). Blocks the calling thread (its event loop too) for up to maxMs.
 */
export function helpEngine(id: number, i32: Int32Array, index: number, expected: number, maxMs: number): number {
  const mod = loadNativeAddon();
  return mod === null ? -2 : mod.helpEngine(id, i32, index, expected, maxMs);
}
