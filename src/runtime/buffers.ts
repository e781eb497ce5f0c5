// BufferMgr (Sample Factory's shared_buffers.py): the main thread allocates every
// SharedArrayBuffer of a threaded run before spawning any thread, and hands the same set to each
// thread via workerData. Afterwards nothing is allocated in shared memory and messages carry
// only indices and small values.
//
//   buffer            size                                     written by              read by
//   header            (8 + 4 x actors) Int32                   actors, learner, main   all
//   snapshot          2 x (params + value target) Float32      learner (publish)       actors, evaluator
//   replay            rings = actors x num_envs, one writer     actor a: rings          learner (sample,
//                     each; obs/action/reward/expert/flags/     a*N .. a*N+N-1          expert write-back)
//                     episode/version/generation + ring header
//   actor blocks      one metrics block per actor slot          that actor              main (scrape)
//   learner block     one metrics block                          learner                main (scrape)
//
// Replay is sharded per actor: actor a owns the N rings of its N environments, so every ring has
// exactly one writer, also across restarts (a restarted actor takes over the same rings).
import { allocateReplayStorage, replayBytes, type ReplayShape } from '../replay/replay-buffer.js';
import { allocateBlock } from '../metrics/block.js';
import { ACTOR_LAYOUT, LEARNER_LAYOUT } from '../metrics/layouts.js';
import { headerBytes } from './header.js';
import { ParamSnapshot } from './param-snapshot.js';
import type { RuntimeBuffers } from './control.js';

export interface BufferPlan {
  actors: number;
  numEnvs: number;
  /** Replay capacity in transitions over all rings (derived.bufferSize). */
  capacity: number;
  obsDim: number;
  actionDim: number;
  paramLength: number;
  targetLength: number;
}

export function replayShapeFor(p: BufferPlan): ReplayShape {
  const numRings = p.actors * p.numEnvs;
  return { numRings, ringCapacity: Math.ceil(p.capacity / numRings), obsDim: p.obsDim, actionDim: p.actionDim };
}

export function allocateRuntimeBuffers(p: BufferPlan): RuntimeBuffers {
  const replayShape = replayShapeFor(p);
  return {
    actors: p.actors,
    header: new SharedArrayBuffer(headerBytes(p.actors)),
    snapshot: ParamSnapshot.allocate(p.paramLength, p.targetLength),
    replayShape,
    replay: allocateReplayStorage(replayShape, true),
    actorBlocks: Array.from({ length: p.actors }, () => allocateBlock(ACTOR_LAYOUT)),
    learnerBlock: allocateBlock(LEARNER_LAYOUT),
  };
}

/** Bytes of shared memory per buffer (reported at start). */
export function sharedBytes(b: RuntimeBuffers): { replay: number; snapshot: number; other: number; total: number } {
  const replay = replayBytes(b.replayShape);
  const snapshot = b.snapshot.data.byteLength + b.snapshot.ctrl.byteLength;
  const other = b.header.byteLength + b.learnerBlock.byteLength + b.actorBlocks.reduce((s, x) => s + x.byteLength, 0);
  return { replay, snapshot, other, total: replay + snapshot + other };
}
