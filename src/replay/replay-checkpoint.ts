// A replay buffer in a checkpoint: one section per storage column (replay.obs ... replay.header),
// written whole by the synchronous trainer or the threaded learner. The replay is sized by the
// run's length (min(buffer_size, what `steps` can write)), and steps may grow on resume, so the
// buffer of a resumed run may be larger than the saved one, never smaller: callers allocate
// max(saved, configured) slots per ring and restoreReplay moves the saved rings into it.
import { CheckpointError } from '../errors.js';
import { requireSection, type CheckpointContents } from '../checkpoint/checkpoint-file.js';
import { RING_HEADER_WORDS, RING_HEAD_WORD, slotWidths, type ReplayBuffer, type ReplayStorage, type SlotColumn } from './replay-buffer.js';

/** Slots per ring of the replay saved in a checkpoint; null if it has none (save_buffer=false). */
export function savedRingCapacity(ckpt: CheckpointContents, numRings: number): number | null {
  const flags = ckpt.sections['replay.flags'];
  if (!flags) return null;
  if (flags.length % numRings !== 0 || flags.length / numRings < 2) {
    throw new CheckpointError(`checkpoint's replay has ${flags.length} slots, which do not split into ${numRings} rings (actors x num_envs); resume with the config the checkpoint was written with`);
  }
  return flags.length / numRings;
}

/** Restores a checkpoint's replay into a fresh buffer with the same rings and at least its ring capacity. */
export function restoreReplay(ckpt: CheckpointContents, replay: ReplayBuffer): void {
  const { numRings, ringCapacity } = replay.shape;
  const savedCapacity = savedRingCapacity(ckpt, numRings);
  if (savedCapacity === null) {
    throw new CheckpointError(`checkpoint has no replay (no 'replay.flags' section): it was written with save_buffer=false or by an incompatible version, and a run cannot continue from it`);
  }
  if (savedCapacity > ringCapacity) {
    throw new CheckpointError(`checkpoint's replay has ${savedCapacity} slots per ring, more than the ${ringCapacity} allocated; allocate at least the saved capacity (savedRingCapacity)`);
  }
  const widths = slotWidths(replay.shape);
  const saved = {} as Record<keyof ReplayStorage, ReplayStorage[keyof ReplayStorage]>;
  for (const [name, arr] of Object.entries(replay.data) as [keyof ReplayStorage, ReplayStorage[keyof ReplayStorage]][]) {
    const length = name === 'header' ? numRings * RING_HEADER_WORDS : numRings * savedCapacity * widths[name as SlotColumn];
    saved[name] = requireSection(ckpt, `replay.${name}`, arr.constructor as never, length);
  }
  for (let r = 0; r < numRings; r++) {
    const head = saved.header[r * RING_HEADER_WORDS + RING_HEAD_WORD];
    if (head < 0) throw new CheckpointError(`checkpoint's replay ring ${r} has head ${head} (slots written), which is negative; the file is corrupt`);
  }
  replay.restoreFrom(saved as ReplayStorage, savedCapacity);
}
