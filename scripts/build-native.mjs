#!/usr/bin/env node
// Builds the native compute engine (native/ -> native/build/Release/tdmpc_native.node) with
// node-gyp; run by `npm install`. Nothing is downloaded: node-gyp gets the headers of the running
// Node (<prefix>/include/node), and the addon is compiled for every SIMD path at once (the CPU's
// best is picked at run time), so the binary does not depend on the build machine's CPU.
//
// A failed build is not fatal: the runtime falls back to the (much slower) TypeScript engine, and
// this script says so loudly. Set TDMPC_REQUIRE_NATIVE=1 to make a failed build fail the install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const addon = join(nativeDir, 'build', 'Release', 'tdmpc_native.node');
const required = process.env.TDMPC_REQUIRE_NATIVE === '1';

function fail(reason) {
  const bar = '!'.repeat(78);
  console.error(`\n${bar}\ntdmpc-runtime: the native engine was NOT built: ${reason}`);
  if (required) {
    console.error(`TDMPC_REQUIRE_NATIVE=1, so the install fails.\n${bar}\n`);
    process.exit(1);
  }
  console.error('Everything still works on the TypeScript engine, but kernels run 10-100x slower.');
  console.error('Fix the cause (a C++17 compiler, make, python3 and the Node headers are needed),');
  console.error(`then run \`node scripts/build-native.mjs\` again.\n${bar}\n`);
  process.exit(0);
}

/** Node's headers next to the running binary (<prefix>/bin/node -> <prefix>/include/node). */
function nodedirArgs() {
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) return [`--nodedir=${prefix}`];
  if (process.env.npm_config_nodedir) return [`--nodedir=${process.env.npm_config_nodedir}`];
  return [];
}

const require = createRequire(import.meta.url);
let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
} catch {
  fail('node-gyp is not installed (it is a dependency in package.json; run npm install)');
}

const args = [gyp, 'rebuild', '-j', '2', ...nodedirArgs()];
console.log(`tdmpc-runtime: building the native engine: node ${args.slice(1).join(' ')}`);
const res = spawnSync(process.execPath, args, { cwd: nativeDir, stdio: 'inherit', env: process.env });
if (res.error) fail(`could not run node-gyp (${res.error.message})`);
if (res.status !== 0) fail(`node-gyp exited with status ${res.status} (see the compiler output above)`);
if (!existsSync(addon)) fail(`node-gyp succeeded but ${addon} is missing`);

// Load it once so a broken binary is reported now, not at the first training run.
try {
  const mod = require(addon);
  const engine = new mod.NativeEngine(1);
  engine.dispose();
  console.log(`tdmpc-runtime: native engine built (${addon}; best SIMD path on this CPU: ${mod.bestSimd})`);
} catch (err) {
  fail(`the built addon does not load: ${err instanceof Error ? err.message : String(err)}`);
}
