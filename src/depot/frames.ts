/**
 * Depots of atomic frames that store their topology once (issue 17 §1).
 *
 * `openFrames` / `memoryFrames` open a Depot whose codec is
 * `atomicFrameCodecFor(table)`, with the table read from the archive's meta
 * and, when writable, registering new topologies as meta entries
 * (`atomic-frame.topology/<id>`). Meta is committed with the records of the
 * same flush, so a crash never leaves a frame whose topology is lost. Records
 * are ordinary `vlstore.atomic-frame/1` frames: a plain `atomicFrameCodec`
 * Depot reads every self-contained frame, and refuses (CodecError naming the
 * id) a frame that refers to a topology, rather than misread it.
 *
 * Not covered: `Depot.dump()` and `checkpoint()` write record bytes without
 * the archive meta, so frames that refer to a topology cannot be decoded from
 * a dump alone; use `shareTopology: false` for archives meant to be dumped.
 */
import type { ChunkStore, ChunkStoreOptions } from "../chunks/index.js";
import { type AtomicFrame, atomicFrameCodecFor, TopologyTable } from "../codecs/index.js";
import type { Codec } from "../codecs/codec.js";
import { Depot, type DepotOptions } from "./depot.js";

/** Options of {@link openFrames} and {@link memoryFrames}, besides the Depot and ChunkStore options. */
export interface FramesOptions {
  /**
   * Store repeated atom types, masses and a constant box once (from the
   * second frame of a run on) instead of in every record. Default `true`.
   * `false` writes every frame self-contained (reading still resolves shared
   * topologies written before).
   */
  shareTopology?: boolean;
}

type FramesCodec = ReturnType<typeof atomicFrameCodecFor>;

/** Open (or create) a Depot of atomic frames in a file; see the module TSDoc. */
export async function openFrames(
  path: string,
  options: FramesOptions & DepotOptions & ChunkStoreOptions = {},
): Promise<Depot<AtomicFrame>> {
  const { shareTopology = true, ...rest } = options;
  const codec = atomicFrameCodecFor(new TopologyTable());
  const depot = await Depot.open(path, codec as Codec<AtomicFrame>, rest);
  bindTopologies(codec, depot.chunkStore, shareTopology);
  return depot;
}

/** A Depot of atomic frames held in memory; see {@link openFrames}. */
export function memoryFrames(options: FramesOptions & DepotOptions & ChunkStoreOptions = {}): Depot<AtomicFrame> {
  const { shareTopology = true, ...rest } = options;
  const codec = atomicFrameCodecFor(new TopologyTable());
  const depot = Depot.memory(codec as Codec<AtomicFrame>, rest);
  bindTopologies(codec, depot.chunkStore, shareTopology);
  return depot;
}

/**
 * A topology-resolving codec for an already open store (read-only use, e.g.
 * tools that open archives generically): the topologies in its meta now.
 */
export function framesCodecFor(store: ChunkStore): FramesCodec {
  return atomicFrameCodecFor(TopologyTable.fromMeta(store.meta));
}

function bindTopologies(codec: FramesCodec, store: ChunkStore, share: boolean): void {
  codec.topologies.load(store.meta);
  if (share && !store.readOnly) codec.topologies.setOnAdd((key, value) => store.setMeta(key, value));
}
