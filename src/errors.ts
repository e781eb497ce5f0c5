// Named error classes for the whole runtime (piscina's errors.ts style): callers and tests match on
// the class, users read the message, which always names the field or operation and the fix.

/** A kernel was called with shapes or buffers that do not fit (names the op and the shapes). */
export class ShapeError extends RangeError {
  override name = 'ShapeError';
}

/** A configuration key or value is invalid (names the key and the accepted values). */
export class ConfigError extends TypeError {
  override name = 'ConfigError';
}

/** A task name, MJCF model or environment call is invalid. */
export class EnvError extends Error {
  override name = 'EnvError';
}

/** A checkpoint file is unreadable, truncated, or from an incompatible version/config. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** A command-line flag or argument is invalid. */
export class CliError extends Error {
  override name = 'CliError';
}
