// Errors of the threaded runtime (piscina's errors.ts style). Config mistakes stay ConfigError.

/** A runtime component failed (worker missing, learner crashed, actor restarts exhausted). */
export class RuntimeError extends Error {
  override name = 'RuntimeError';
}

/** The metrics server could not start (port in use, bad address). */
export class MetricsError extends Error {
  override name = 'MetricsError';
}
