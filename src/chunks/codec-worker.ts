/**
 * Entry of a compression worker thread (see ./compress-pool.ts): takes raw
 * blocks, runs the block codec (filter, shuffle, zstd) and the stored bytes'
 * CRC-32 here, off the main thread, and hands back the stored bytes in a
 * buffer of their own, transferred (no copy on the main thread).
 */
import { parentPort } from "node:worker_threads";
import { crc32 } from "../format/checksum.js";
import { compressBlock } from "./block-codec.js";
import type { CompressReply, CompressRequest } from "./compress-protocol.js";

const port = parentPort;
if (port === null) throw new Error("codec-worker.ts runs as a worker thread only");

port.on("message", (m: CompressRequest) => {
  void run(m).then(
    (reply) => {
      if (reply.stored !== undefined) port.postMessage(reply, [reply.stored.buffer as ArrayBuffer]);
      else port.postMessage(reply);
    },
    (e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      port.postMessage({ id: m.id, error: { name: err.name, message: err.message } } satisfies CompressReply);
    },
  );
});

// Loaded and listening: the pool sends work from now on (until then it compresses inline).
port.postMessage({ id: -1 } satisfies CompressReply);

async function run(m: CompressRequest): Promise<CompressReply> {
  const xor =
    m.lengths !== undefined && m.offsets !== undefined
      ? { lengths: m.lengths, offsets: m.offsets, from: 0, to: m.lengths.length }
      : undefined;
  const { stored, flags } = await compressBlock(m.raw, m.level, m.width, xor);
  const crc = crc32(stored);
  // Kept raw: the main thread still has those bytes, nothing to send back.
  if (stored === m.raw) return { id: m.id, flags, crc };
  // zstd's output may sit in a larger or pooled buffer: copy it into one of its own to transfer.
  return { id: m.id, flags, crc, stored: new Uint8Array(stored) };
}
