// Engine factory: picks the native addon when it is built, the TypeScript reference otherwise.
// TDMPC_ENGINE=native|js overrides the choice (js is the oracle in tests).
import { JsEngine } from './js-engine.js';
import { loadNativeEngine, nativeLoadError } from './native-engine.js';
import type { Engine, EngineKind, EngineOptions } from './engine.js';

export * from './engine.js';

let warnedFallback = false;

function requestedKind(kind: EngineKind | undefined): EngineKind {
  const env = process.env.TDMPC_ENGINE;
  if (env !== undefined && env !== '') {
    if (env !== 'native' && env !== 'js' && env !== 'auto') {
      throw new TypeError(`TDMPC_ENGINE=${env} is not a backend; use TDMPC_ENGINE=native, js or auto`);
    }
    return env;
  }
  return kind ?? 'auto';
}

export function createEngine(options: EngineOptions = {}): Engine {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new RangeError(`engine threads must be an integer in [1, 64], got ${threads}`);
  }
  const kind = requestedKind(options.kind);
  if (kind === 'js') return new JsEngine(threads);
  const native = loadNativeEngine(threads);
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
