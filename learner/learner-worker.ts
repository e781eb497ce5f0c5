// Thread shell of the learner (the loop is learner.ts): builds its engine with learnerThreads(cfg)
// native threads and the Agent (restored from the checkpoint on resume=), views of the shared
// buffers, and exposes the comlink LearnerApi. It publishes the initial parameters before
// anything else so actors always find a version to act with once seeding ends.
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { createEngine } from '../src/engine/index.js';
import { learnerThreads } from '../src/config/derive.js';
import { Agent } from '../src/agent/agent.js';
import { ReplayBuffer, wholeReplayViews } from '../src/replay/replay-buffer.js';
import { readCheckpoint } from '../src/checkpoint/checkpoint-file.js';
import { RunHeader } from '../src/runtime/header.js';
import { ParamSnapshot } from '../src/runtime/param-snapshot.js';
import { RateLimiter } from '../src/runtime/rate-limiter.js';
import { nodeEndpoint } from '../src/runtime/endpoint.js';
import { BlockWriter } from '../src/metrics/block.js';
import { LEARNER_LAYOUT } from '../src/metrics/layouts.js';
import type { LearnerApi, LearnerInit, LearnerState } from '../src/runtime/control.js';
import { Learner } from './learner.js';

const init = workerData as LearnerInit;
const { cfg, buffers } = init;

function build(): Learner {
  // A guest seat for a waiting actor (actors_help_learner): the update's kernels split their tasks
  // for one more thread and run them alone whenever no actor joins.
  const helped = init.learnerSeatId !== null;
  const engine = createEngine({ threads: learnerThreads(cfg), guestSeats: helped ? 1 : 0 });
  if (helped) engine.offerGuestSeat(init.learnerSeatId!);
  const agent = new Agent(engine, cfg, init.derived, 1);
  let state: LearnerState | null = null;
  if (init.resumeFrom) {
    const ckpt = readCheckpoint(init.resumeFrom);
    agent.restore(ckpt.meta.agent as Record<string, unknown>, ckpt.sections);
    state = ckpt.meta.trainer as LearnerState;
  }
  const learner = new Learner(
    init, agent,
    new ReplayBuffer(buffers.replayShape, wholeReplayViews(buffers.replay)),
    new RunHeader(buffers.header, buffers.actors),
    new ParamSnapshot(buffers.snapshot, engine),
    new RateLimiter(init.limiter),
    new BlockWriter(LEARNER_LAYOUT, buffers.learnerBlock),
    state,
  );
  learner.publish();
  return learner;
}

let learner: Learner | null = null;
let buildError: unknown = null;
try {
  learner = build();
} catch (err) {
  buildError = err;
}
const get = (): Learner => {
  if (!learner) throw buildError;
  return learner;
};

const api: LearnerApi = {
  // The engine stays alive after run() returns: the final checkpoint is written after it.
  async run() {
    return get().run();
  },
  stats() {
    return get().stats();
  },
  async checkpoint(file, meta) {
    return get().checkpoint(file, meta);
  },
  injectFault() {
    get().injectFault();
  },
};

Comlink.expose(api, nodeEndpoint(parentPort!));
