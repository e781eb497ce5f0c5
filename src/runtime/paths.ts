// Worker entry files. Threads run the COMPILED JavaScript in dist/ (a worker cannot load .ts), so
// the path is resolved from the package root, which works whether the caller runs from src/
// (vitest) or from dist/src/ (the CLI). `npm test` and `npm install` compile dist/ first.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeError } from './errors.js';

let root: string | null = null;

/** The tdmpc-runtime package root (the folder with its package.json). */
export function packageRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tdmpc-runtime') return (root = dir);
    dir = path.dirname(dir);
  }
  throw new RuntimeError('cannot find the tdmpc-runtime package root (package.json) above ' + fileURLToPath(import.meta.url));
}

/** Absolute path of a compiled worker entry, e.g. workerFile('actors/actor-worker') -> <root>/dist/actors/actor-worker.js. */
export function workerFile(entry: string): string {
  const file = path.join(packageRoot(), 'dist', `${entry}.js`);
  if (!existsSync(file)) throw new RuntimeError(`worker entry ${file} is missing; compile the TypeScript first (npm run build)`);
  return file;
}
