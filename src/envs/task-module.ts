// task_module=<file>: a JavaScript module that registers custom tasks (registerTask) when it is
// imported. Every thread has its own task registry, so the main thread and each worker that makes
// environments (actors, evaluation) import the module before looking the task up; importing it
// again in the same thread is a no-op (ES modules run once per thread).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';

/** Imports the task module, if any (an absolute or cwd-relative path). */
export async function loadTaskModule(file: string | null): Promise<void> {
  if (file === null) return;
  const resolved = path.resolve(file);
  if (!existsSync(resolved)) {
    throw new ConfigError(`task_module '${file}' does not exist; pass the path of a .js/.mjs file that calls registerTask (see docs/custom-tasks.md)`);
  }
  try {
    await import(pathToFileURL(resolved).href);
  } catch (err) {
    throw new ConfigError(`task_module '${file}' failed to load: ${(err as Error).message} (it must be JavaScript that node can import, e.g. a .mjs file or compiled TypeScript)`);
  }
}
