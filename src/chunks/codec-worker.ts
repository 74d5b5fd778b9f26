/**
 * Entry of a codec worker thread (see ./compress-pool.ts). Compress: runs the
 * block codec (filter, shuffle, zstd) and the stored bytes' CRC-32 here, off
 * the main thread, and hands back the stored bytes in a buffer of their own,
 * transferred (no copy on the main thread). Decode: zstd, unshuffle and
 * un-XOR of a run of blocks, handed back transferred the same way.
 */
import { parentPort } from "node:worker_threads";
import { crc32 } from "../format/checksum.js";
import { compressBlock, decompressRun } from "./block-codec.js";
import type { CodecReply, CodecRequest, CompressRequest, DecodeRequest } from "./compress-protocol.js";

const port = parentPort;
if (port === null) throw new Error("codec-worker.ts runs as a worker thread only");

port.on("message", (m: CodecRequest) => {
  void (m.op === "decode" ? decode(m) : compress(m)).then(
    (reply) => port.postMessage(reply, transferList(reply)),
    (e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      port.postMessage({ id: m.id, error: { name: err.name, message: err.message } } satisfies CodecReply);
    },
  );
});

// Loaded and listening: the pool sends work from now on (until then it runs inline).
port.postMessage({ id: -1 } satisfies CodecReply);

function transferList(r: CodecReply): ArrayBuffer[] {
  if (r.stored !== undefined) return [r.stored.buffer as ArrayBuffer];
  return (r.raws ?? []).map((b) => b.buffer as ArrayBuffer);
}

/**
 * `b` in an ArrayBuffer of its own, exactly its size: zstd's output Buffer is
 * native memory that cannot be detached, so it is copied (with set(), a
 * memcpy: `new Uint8Array(buffer)` measured several times slower here).
 */
function own(b: Uint8Array): Uint8Array {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && !Buffer.isBuffer(b)) return b;
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

async function compress(m: CompressRequest): Promise<CodecReply> {
  const xor =
    m.lengths !== undefined && m.offsets !== undefined
      ? { lengths: m.lengths, offsets: m.offsets, from: 0, to: m.lengths.length }
      : undefined;
  const { stored, flags } = await compressBlock(m.raw, m.level, m.width, xor);
  const crc = crc32(stored);
  // Kept raw: the main thread still has those bytes, nothing to send back.
  if (stored === m.raw) return { id: m.id, flags, crc };
  return { id: m.id, flags, crc, stored: own(stored) };
}

async function decode(m: DecodeRequest): Promise<CodecReply> {
  const where = { what: "a block run", offset: 0 }; // a failure is re-run on the main thread, which names it
  const raws = await decompressRun(m.stored, m.blocks, m.width, where, (k) => {
    const b = m.blocks[k]!;
    return { lengths: b.lengths, offsets: b.offsets, from: 0, to: b.lengths.length };
  });
  return { id: m.id, raws: raws.map(own) };
}
