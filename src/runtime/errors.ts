// Errors of the threaded runtime (piscina's errors.ts style). Config mistakes stay ConfigError.

/** A runtime component failed (worker entry missing, a thread could not be kept alive). */
export class RuntimeError extends Error {
  override name = 'RuntimeError';
}

/** The learner thread threw or died; the run stops with its last checkpoint. */
export class LearnerFailure extends RuntimeError {
  override name = 'LearnerFailure';
}

/** An actor slot failed too many times in a row without committing a step. */
export class ActorFailure extends RuntimeError {
  override name = 'ActorFailure';
}
