// Derived configuration: the ONE place where values computed from the config and the task live
// (tdmpc2 fills these in three places; we do it here only). Marked `???` in tdmpc2's config.yaml.
import os from 'node:os';
import { ConfigError } from '../errors.js';
import type { Config } from './schema.js';
import type { EnvOptions } from '../envs/env.js';
import { modelSizePreset } from '../model/config.js';
import { wholeUpdates } from '../trainer/update-tokens.js';
import { replayBytes, type ReplayShape } from '../replay/replay-buffer.js';

/** What derivation needs to know about the task. */
export interface TaskInfo {
  name: string;
  obsDim: number;
  actionDim: number;
  /** Agent steps per episode with the configured action repeat. */
  episodeLength: number;
  episodic: boolean;
}

export interface Derived {
  obsDim: number;
  actionDim: number;
  episodeLength: number;
  /** clip((T/denom - 1)/(T/denom), discount_min, discount_max) with T = episode length. */
  discount: number;
  seedSteps: number;
  pretrainUpdates: number;
  /** MPPI iterations: 8 when action_dim >= 20 (tdmpc2), else the config value. */
  iterations: number;
  encDim: number;
  mlpDim: number;
  latentDim: number;
  numEncLayers: number;
  numQ: number;
  /** Replay capacity in transitions, capped at the run's total steps (+ final observations). */
  bufferSize: number;
}

/**
 * Engine threads of the learner (runtime=threads) or of the whole loop (sync): learner_threads, or
 * with 0 the cores the actors leave free (each actor runs one engine thread), at least 1.
 */
export function learnerThreads(cfg: Config, cores = os.availableParallelism()): number {
  if (cfg.learner_threads > 0) return cfg.learner_threads;
  return cfg.runtime === 'threads' ? coresLeftByActors(cfg.actors, cores) : cores;
}

/**
 * Whether an idle thread of the run may compute the other side's kernels (learner_helps_actor,
 * actors_help_learner): only when the actors' and the learner's engine threads fit the cores, so
 * the waiting thread's core is really free. Oversubscribed (e.g. 2 actors + learner on 2 cores),
 * a helper competes with a busy thread for a core, and a kernel whose guest lost its core waits for
 * that guest's task: measured 4.4 instead of 5.5 env steps/s with 2 actors on 2 cores.
 */
export function idleThreadsMayHelp(cfg: Config, cores = os.availableParallelism()): boolean {
  return cfg.runtime === 'threads' && cfg.actors + learnerThreads(cfg, cores) <= cores;
}

/** Cores not kept busy by `actors` actor threads (one engine thread each), at least 1. */
export function coresLeftByActors(actors: number, cores = os.availableParallelism()): number {
  return Math.max(1, cores - actors);
}

export function discountHeuristic(episodeLength: number, denom: number, lo: number, hi: number): number {
  const frac = episodeLength / denom;
  const d = (frac - 1) / frac;
  return Math.min(hi, Math.max(lo, d));
}

/**
 * Keys that bound one quantity from both sides. A reversed pair was accepted and clamped to
 * whichever bound is applied last (a fixed planner std of max_std, a fixed discount of
 * discount_max), which is not what either number asked for.
 */
const RANGES: readonly { lo: 'min_std' | 'discount_min' | 'vmin' | 'log_std_min'; hi: 'max_std' | 'discount_max' | 'vmax' | 'log_std_max'; strict: boolean; what: string }[] = [
  { lo: 'min_std', hi: 'max_std', strict: false, what: "the planner's sampling std" },
  { lo: 'discount_min', hi: 'discount_max', strict: false, what: 'the discount derived from the episode length' },
  { lo: 'vmin', hi: 'vmax', strict: true, what: 'the symlog range of the two-hot reward and value bins' },
  { lo: 'log_std_min', hi: 'log_std_max', strict: true, what: "the policy's log std" },
];

function checkRanges(cfg: Config): void {
  for (const { lo, hi, strict, what } of RANGES) {
    const a = cfg[lo];
    const b = cfg[hi];
    if (strict ? a < b : a <= b) continue;
    throw new ConfigError(`${lo}=${a} and ${hi}=${b} bound ${what} from both sides, so ${lo} must be ${strict ? '<' : '<='} ${hi}; swap them or change one`);
  }
}

export function deriveConfig(cfg: Config, task: TaskInfo): Derived {
  const episodeLength = cfg.episode_length ?? task.episodeLength;
  // model_size (tdmpc2 presets, src/model/config.ts) sets the widths; null keeps the fields.
  const p = cfg.model_size !== null ? modelSizePreset(cfg.model_size) : null;
  const dims = p
    ? { enc_dim: p.encDim, mlp_dim: p.mlpDim, latent_dim: p.latentDim, num_enc_layers: p.numEncLayers, num_q: p.numQ }
    : { enc_dim: cfg.enc_dim, mlp_dim: cfg.mlp_dim, latent_dim: cfg.latent_dim, num_enc_layers: cfg.num_enc_layers, num_q: cfg.num_q };
  if (dims.latent_dim % cfg.simnorm_dim !== 0) {
    throw new ConfigError(`latent_dim (${dims.latent_dim}) must be a multiple of simnorm_dim (${cfg.simnorm_dim})`);
  }
  if (cfg.num_elites > cfg.num_samples + cfg.num_pi_trajs) {
    throw new ConfigError(`num_elites (${cfg.num_elites}) must be <= num_samples + num_pi_trajs (${cfg.num_samples + cfg.num_pi_trajs})`);
  }
  checkRanges(cfg);
  if (cfg.num_dynamics_heads !== 1) {
    // The world model can hold several heads (src/model/dynamics.ts), but the update trains one.
    throw new ConfigError(`num_dynamics_heads=${cfg.num_dynamics_heads}: the update trains a single dynamics head (ensemble dynamics are not built); use num_dynamics_heads=1`);
  }
  if (cfg.termination && !task.episodic) {
    throw new ConfigError(`termination=true but task '${task.name}' never terminates; set termination=false`);
  }
  const seedSteps = cfg.seed_steps ?? (cfg.seed_steps_coef > 0
    ? Math.round(cfg.seed_steps_coef * cfg.num_envs * episodeLength)
    : defaultSeedSteps(episodeLength));
  checkSlicesFit(cfg, episodeLength, seedSteps);
  const pretrainUpdates = cfg.pretrain_updates ?? (cfg.algo === 'tdmpc2' ? seedSteps : 0);
  const bufferSize = Math.min(cfg.buffer_size, replaySlotsForSteps(cfg.steps, episodeLength, cfg.num_envs));
  if (bufferSize < slotsForHorizon(cfg)) {
    // A run this short may also end inside seeding: name that first, since the steps it asks for
    // also lift this cap (the reverse is not true).
    checkLearningPhase(cfg, { seedSteps, pretrainUpdates, episodeLength });
    const runSlots = (steps: number) => replaySlotsForSteps(steps, episodeLength, cfg.num_envs);
    const raise = replayRaise(cfg, slotsForHorizon(cfg), runSlots);
    throw new ConfigError(`${cfg.num_envs} env(s) with horizon ${cfg.horizon} need a replay of at least ${slotsForHorizon(cfg)} slots, but it holds ${bufferSize}: ${replayCap(cfg, runSlots, 1)}; raise ${raise}`);
  }
  return {
    obsDim: task.obsDim,
    actionDim: task.actionDim,
    episodeLength,
    discount: discountHeuristic(episodeLength, cfg.discount_denom, cfg.discount_min, cfg.discount_max),
    seedSteps,
    pretrainUpdates,
    // tdmpc2: `iterations += 2 * int(action_dim >= 20)` (humanoid, dog: 6 -> 8).
    iterations: cfg.iterations + (task.actionDim >= 20 ? 2 : 0),
    encDim: dims.enc_dim,
    mlpDim: dims.mlp_dim,
    latentDim: dims.latent_dim,
    numEncLayers: dims.num_enc_layers,
    numQ: dims.num_q,
    bufferSize,
  };
}

/** The fewest replay slots that keep every env's slices of horizon+1 steps clear of the slots being rewritten. */
function slotsForHorizon(cfg: Config): number {
  return cfg.num_envs * (cfg.horizon + 2) * 2;
}

/** tdmpc2's seed steps when neither seed_steps nor seed_steps_coef is set. */
function defaultSeedSteps(episodeLength: number): number {
  return Math.max(1000, 5 * episodeLength);
}

/**
 * A training sample is a slice of horizon+1 consecutive observations of one env's episode. Refuses,
 * before any work, runs in which none can exist: episodes shorter than horizon steps (an episode of
 * L steps stores L+1 observations), or seeding too short to give any env horizon+1 steps before
 * the first update (the seed steps are spread over every env; in the threaded runtime over
 * actors x num_envs of them).
 */
function checkSlicesFit(cfg: Config, episodeLength: number, seedSteps: number): void {
  const H = cfg.horizon;
  if (episodeLength < H) {
    const source = cfg.episode_length !== null ? `episode_length=${episodeLength}` : `the task's episode length (${episodeLength} steps)`;
    throw new ConfigError(`${source} is shorter than horizon=${H}: no episode holds a training slice of horizon+1 = ${H + 1} observations; lower horizon to at most ${episodeLength}${cfg.episode_length !== null ? ' or raise episode_length' : ''}`);
  }
  const envs = seedingEnvs(cfg);
  const perEnv = Math.ceil(seedSteps / envs);
  if (perEnv >= H + 1) return;
  const envWords = `${envs} env(s)${cfg.runtime === 'threads' ? ' (actors x num_envs)' : ''}`;
  const source = seedStepsSource(cfg, seedSteps);
  const defaultFits = Math.ceil(defaultSeedSteps(episodeLength) / envs) >= H + 1;
  throw new ConfigError(`${source} spread over ${envWords} leaves ${perEnv} step(s) per env when updates start, but a training slice needs horizon+1 = ${H + 1} consecutive steps of one env; set seed_steps to at least ${lowestSeedSteps(cfg)}` +
    (cfg.seed_steps !== null && cfg.seed_steps_coef === 0 && defaultFits ? ', or leave it unset for the default max(1000, 5 x episode_length)' : ''));
}

/** The envs the seed steps are spread over: num_envs, of every actor in the threaded runtime. */
function seedingEnvs(cfg: Config): number {
  return cfg.num_envs * (cfg.runtime === 'threads' ? cfg.actors : 1);
}

/** The fewest seed steps that give every env horizon+1 steps before the first update (checkSlicesFit). */
function lowestSeedSteps(cfg: Config): number {
  return seedingEnvs(cfg) * cfg.horizon + 1;
}

/** `steps` rounded up to whole vector steps: both runtimes advance num_envs steps at a time. */
export function wholeVectorSteps(steps: number, numEnvs: number): number {
  return Math.ceil(steps / numEnvs) * numEnvs;
}

/** Where the run's seed_steps came from, for messages. */
function seedStepsSource(cfg: Config, seedSteps: number): string {
  return cfg.seed_steps !== null ? `seed_steps=${seedSteps}`
    : cfg.seed_steps_coef > 0 ? `seed_steps_coef=${cfg.seed_steps_coef} (seed_steps ${seedSteps})` : `the default seed_steps (${seedSteps})`;
}

/**
 * A fresh run must get past seeding (both runtimes check it before any work; `tdmpc eval` does
 * not train): updates, the pretraining burst included, start with the first vector step after the
 * seed steps, rounded up to whole vector steps of num_envs as both runtimes count them. A shorter
 * run only collected random data and saved an untrained agent, silently. A resumed run may end in
 * seeding: its steps= continues a run already accepted (runs chunked by steps=).
 */
export function checkLearningPhase(cfg: Config, derived: Pick<Derived, 'seedSteps' | 'pretrainUpdates' | 'episodeLength'>): void {
  if (cfg.resume !== null) return;
  const seedSteps = derived.seedSteps;
  const N = cfg.num_envs;
  const totalSteps = wholeVectorSteps(cfg.steps, N);
  const learnStart = wholeVectorSteps(seedSteps, N);
  if (totalSteps > learnStart) {
    checkRunEarnsUpdates(cfg, derived, learnStart, totalSteps);
    return;
  }
  // Advice that leads straight into the replay-size refusals is no advice: the steps it names also
  // fill a batch, and fewer seed steps are offered only where this run's steps already do.
  const replaySteps = fewestStepsForReplay(cfg, derived.episodeLength);
  const lowerSeed = totalSteps - N >= lowestSeedSteps(cfg) && cfg.steps >= replaySteps ? `, or set seed_steps to at most ${totalSteps - N}` : '';
  throw new ConfigError(`steps=${cfg.steps} ends before any update: ${seedStepsSource(cfg, seedSteps)} of random actions come first`
    + `${N > 1 ? ` (in vector steps of num_envs=${N})` : ''}, so the run would save an untrained agent; raise steps to at least ${Math.max(learnStart + 1, replaySteps)}${lowerSeed}`);
}

/**
 * After seeding, a run makes pretrain_updates plus about floor(utd_ratio x its learning steps)
 * updates (wholeUpdates, as the rate limiter's closed form counts them). None at all (utd_ratio=0, or a ratio too small for a
 * short run, without a pretraining burst) saves an untrained agent, as above.
 */
function checkRunEarnsUpdates(cfg: Config, derived: Pick<Derived, 'pretrainUpdates' | 'episodeLength'>, learnStart: number, totalSteps: number): void {
  const learningSteps = totalSteps - learnStart;
  if (derived.pretrainUpdates > 0 || wholeUpdates(cfg.utd_ratio * learningSteps) > 0) return;
  // The first whole vector step after seeding at which utd_ratio has earned one update.
  const N = cfg.num_envs;
  const enough = learnStart + Math.ceil(1 / (cfg.utd_ratio * N) - 1e-9) * N;
  // (and that also fills a batch, as above)
  const enoughSteps = Math.max(enough, fewestStepsForReplay(cfg, derived.episodeLength));
  throw new ConfigError(`utd_ratio=${cfg.utd_ratio} earns no update over the ${learningSteps} steps after seeding, and pretrain_updates=0 adds no pretraining burst, so the run would save an untrained agent; `
    + `raise utd_ratio (TD-MPC2 uses 1)${cfg.utd_ratio > 0 ? ` or steps to at least ${enoughSteps}` : ''}, or set pretrain_updates above 0`);
}

/**
 * Replay slots a run of `steps` steps can fill: one per step, one per episode for its final
 * observation, 2 per env of margin. The replay is never larger (whatever buffer_size says).
 */
export function replaySlotsForSteps(steps: number, episodeLength: number, numEnvs: number): number {
  return steps + Math.ceil(steps / episodeLength) + numEnvs * 2;
}

/**
 * Refuses, before any work, a replay of `slots` slots (both runtimes; rounded up to whole rings)
 * that cannot hold one batch. The replay holds min(buffer_size, what `steps` can write), so the
 * message names the cap that binds and what lifts it: raising buffer_size does nothing while
 * steps is the smaller cap.
 */
export function checkReplayHoldsBatch(cfg: Config, derived: Derived, slots: number): void {
  if (slots >= cfg.batch_size) return;
  const shards = cfg.runtime === 'threads' ? cfg.actors : 1;
  const runSlots = batchReplaySlots(cfg, derived.episodeLength);
  throw new ConfigError(`batch_size=${cfg.batch_size} needs a replay of at least ${cfg.batch_size} slots, but it holds ${slots}: ${replayCap(cfg, runSlots, shards)}; lower batch_size to at most ${slots}, or raise ${replayRaise(cfg, cfg.batch_size, runSlots)}`);
}

/** The replay slots (whole rings) a run of `steps` steps gets, before buffer_size caps it. */
function batchReplaySlots(cfg: Config, episodeLength: number): (steps: number) => number {
  const N = cfg.num_envs;
  // The threaded runtime lets each actor's shard hold the whole run (shards fill unevenly).
  const shards = cfg.runtime === 'threads' ? cfg.actors : 1;
  return (steps) => shards * N * Math.ceil(replaySlotsForSteps(steps, episodeLength, N) / N);
}

/**
 * The fewest steps after which a run's replay (capped by steps, not buffer_size) holds slices of
 * every env and a batch: what the learning-phase advice must not undercut.
 */
function fewestStepsForReplay(cfg: Config, episodeLength: number): number {
  return Math.max(
    fewestStepsFilling(cfg.batch_size, batchReplaySlots(cfg, episodeLength)),
    fewestStepsFilling(slotsForHorizon(cfg), (steps) => replaySlotsForSteps(steps, episodeLength, cfg.num_envs)));
}

/**
 * Everything a replay of `shape` must satisfy, checked before it is allocated: it holds a batch,
 * fits this machine's memory, and its widest column fits one typed array. Both runtimes call this
 * with the shape they will allocate (the threaded runtime's shards included).
 */
export function checkReplayUsable(cfg: Config, derived: Derived, shape: ReplayShape): void {
  const slots = shape.numRings * shape.ringCapacity;
  checkReplayHoldsBatch(cfg, derived, slots);
  checkReplayFitsMemory(cfg, slots, replayBytes(shape));
  checkReplayColumnsFit(slots, Math.max(shape.obsDim, shape.actionDim));
}

/** Memory left to the rest of the process (engine, MuJoCo modules, workers) beside the replay. */
const PROCESS_RESERVE_BYTES = 2 ** 30;

/**
 * Refuses, before any work, a replay larger than this machine's memory. It is allocated and filled
 * at the start, so an oversized one (buffer_size=30000000 with a long run: 15 GiB for humanoid)
 * would be killed by the system, or die from an allocation failure, without a message. `bytes`
 * is the whole replay of `slots` slots (both runtimes; the threaded runtime's shards included).
 */
export function checkReplayFitsMemory(cfg: Config, slots: number, bytes: number, totalBytes = os.totalmem()): void {
  if (bytes + PROCESS_RESERVE_BYTES <= totalBytes) return;
  const perSlot = bytes / slots;
  const gib = (b: number) => (b / 2 ** 30).toFixed(1);
  const fits = Math.max(0, Math.floor((totalBytes - PROCESS_RESERVE_BYTES) / perSlot));
  const shards = cfg.runtime === 'threads' && cfg.actors > 1 ? ` (each of the ${cfg.actors} actors' shards may hold the whole run)` : '';
  throw new ConfigError(`the replay of ${slots.toLocaleString('en-US')} transitions${shards} needs ${gib(bytes)} GiB of memory (${Math.round(perSlot)} bytes each), `
    + `but this machine has ${gib(totalBytes)} GiB and the rest of the run needs about 1 GiB; lower buffer_size so the replay holds at most ${fits.toLocaleString('en-US')} transitions (TD-MPC2 keeps 1,000,000)`);
}

/** Elements one JavaScript typed array can hold (Node 20's V8): each replay column is one array. */
const TYPED_ARRAY_MAX_ELEMENTS = 2 ** 32;

/**
 * Refuses, before any work, a replay whose widest column (observations: slots x obs dims floats)
 * exceeds what one typed array holds; its allocation threw "Invalid typed array length" (a
 * machine with the memory for 64M humanoid transitions would get there).
 */
export function checkReplayColumnsFit(slots: number, widest: number): void {
  // Sampled slices carry their slot index as an int32 (ReplayBatch.start).
  if (slots > 2 ** 31 - 1) throw new ConfigError(`the replay of ${slots.toLocaleString('en-US')} transitions is more than the 2,147,483,647 it can index; lower buffer_size`);
  if (slots * widest <= TYPED_ARRAY_MAX_ELEMENTS) return;
  throw new ConfigError(`the replay of ${slots.toLocaleString('en-US')} transitions would hold ${(slots * widest).toLocaleString('en-US')} values in its widest column (${widest} per transition), `
    + `more than the ${TYPED_ARRAY_MAX_ELEMENTS.toLocaleString('en-US')} one JavaScript typed array can hold; lower buffer_size so the replay holds at most ${Math.floor(TYPED_ARRAY_MAX_ELEMENTS / widest).toLocaleString('en-US')} transitions`);
}

/** Which cap sizes the replay: buffer_size, or steps (a run holds at most what it writes). */
function replayCap(cfg: Config, runSlots: (steps: number) => number, shards: number): string {
  if (cfg.buffer_size <= runSlots(cfg.steps)) return `its size is capped by buffer_size=${cfg.buffer_size}`;
  const perShard = shards > 1 ? `, in each of the ${shards} actors' shards` : '';
  return `its size is capped by steps=${cfg.steps} (a run holds at most what it writes: its steps, one final observation per episode and 2 slots per env${perShard}), not by buffer_size=${cfg.buffer_size}, so raising buffer_size alone does not help`;
}

/** The caps to raise for the replay to hold `needed` slots, with their smallest sufficient values. */
function replayRaise(cfg: Config, needed: number, runSlots: (steps: number) => number): string {
  const raise: string[] = [];
  if (cfg.buffer_size < needed) raise.push(`buffer_size to at least ${needed}`);
  if (runSlots(cfg.steps) < needed) raise.push(`steps to at least ${fewestStepsFilling(needed, runSlots)}`);
  return raise.join(' and ');
}

/** The fewest steps whose run fills `needed` replay slots. */
function fewestStepsFilling(needed: number, runSlots: (steps: number) => number): number {
  // runSlots grows with steps and runSlots(s) >= s, so the answer lies in [1, needed].
  let lo = 1;
  let hi = needed;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (runSlots(mid) >= needed) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The environment wrappers a run's config asks for (action repeat, reward accumulation, episode length). */
export function envOptionsFor(cfg: Config): EnvOptions {
  return {
    actionRepeat: cfg.action_repeat,
    rewardMode: cfg.reward_accumulation as 'sum' | 'discounted',
    ...(cfg.episode_length !== null ? { maxEpisodeSteps: cfg.episode_length } : {}),
  };
}
