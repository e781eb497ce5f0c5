// Thread shell of an actor (the loop is actor.ts): builds its engine (one native thread, plus a
// guest seat the learner fills while it waits, for actor 0 under learner_helps_actor), its
// VectorEnv, an Agent for planning, and views of the shared buffers from workerData, then exposes
// the comlink ActorApi to the main thread. Errors propagate: a throw rejects run() on the main
// side, a crash ends the thread; either way the supervisor restarts this actor slot.
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { createEngine } from '../src/engine/index.js';
import { VectorEnv } from '../src/envs/vector-env.js';
import { makeTask } from '../src/envs/registry.js';
import { loadTaskModule } from '../src/envs/task-module.js';
import { envOptionsFor } from '../src/config/derive.js';
import { Agent } from '../src/agent/agent.js';
import { ReplayBuffer, wholeReplayViews } from '../src/replay/replay-buffer.js';
import { RunHeader } from '../src/runtime/header.js';
import { ParamSnapshot } from '../src/runtime/param-snapshot.js';
import { RateLimiter } from '../src/runtime/rate-limiter.js';
import { nodeEndpoint } from '../src/runtime/endpoint.js';
import { BlockWriter } from '../src/metrics/block.js';
import { ACTOR_LAYOUT } from '../src/metrics/layouts.js';
import type { ActorApi, ActorInit } from '../src/runtime/control.js';
import { Actor } from './actor.js';

const init = workerData as ActorInit;
const { cfg, buffers } = init;

async function build(): Promise<Actor> {
  await loadTaskModule(cfg.task_module); // custom tasks: this thread's registry
  const spec = makeTask(cfg.task);
  const env = await VectorEnv.create(spec, cfg.num_envs, envOptionsFor(cfg));
  // Actor 0 offers a guest seat: the learner computes part of its planning while it would
  // otherwise wait for this actor's next transition (learner_helps_actor).
  const helped = init.helpSeatId !== null && init.actor === 0;
  const engine = createEngine({ threads: 1, guestSeats: helped ? 1 : 0 });
  if (helped) engine.offerGuestSeat(init.helpSeatId!);
  const agent = new Agent(engine, cfg, init.derived, cfg.num_envs);
  return new Actor(
    init, env, agent,
    new ReplayBuffer(buffers.replayShape, wholeReplayViews(buffers.replay)),
    new RunHeader(buffers.header, buffers.actors),
    new ParamSnapshot(buffers.snapshot, engine),
    new RateLimiter(init.limiter),
    new BlockWriter(ACTOR_LAYOUT, buffers.actorBlocks[init.actor]),
  );
}

const ready = build();

const api: ActorApi = {
  async run(startPaused) {
    const actor = await ready;
    try {
      return await actor.run(startPaused);
    } finally {
      actor.env.dispose();
      actor.agent.engine.dispose();
    }
  },
  async pause() {
    await (await ready).pause();
  },
  resume() {
    void ready.then((a) => a.resume(), () => undefined);
  },
  stats() {
    return { actor: init.actor, incarnation: init.incarnation, envSteps: 0, episodes: 0, actingVersion: -1, paused: false };
  },
  injectFault() {
    void ready.then((a) => a.injectFault(), () => undefined);
  },
};

// stats() answers from the built actor once it exists.
// (A build failure is reported once, by run().)
void ready.then((a) => { api.stats = () => a.stats(); }, () => undefined);
Comlink.expose(api, nodeEndpoint(parentPort!));
