/**
 * Reading a whole shard file from any dataset location in pieces, with its
 * CRC-32: what verify and copy check against the manifest row.
 */
import * as fs from "node:fs";
import { crc32 } from "../format/checksum.js";
import { openSource } from "../sources/open-source.js";
import type { DatasetStorage } from "./storage.js";

/** Piece size of whole-file reads (the read planner's request cap). */
const PIECE = 8 << 20;

/** Read `rel` whole, piece by piece (each passed to `onPiece`), and return its size and CRC-32. */
export async function streamShard(
  storage: DatasetStorage,
  rel: string,
  onPiece?: (bytes: Uint8Array) => Promise<void> | void,
): Promise<{ bytes: number; crc32: number }> {
  const location = storage.locationOf(rel);
  if (storage.kind === "local") {
    const fh = await fs.promises.open(location, "r");
    try {
      const buf = new Uint8Array(PIECE);
      let crc = 0;
      let at = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, at);
        if (bytesRead === 0) break;
        const piece = buf.subarray(0, bytesRead);
        crc = crc32(piece, crc);
        await onPiece?.(piece);
        at += bytesRead;
      }
      return { bytes: at, crc32: crc };
    } finally {
      await fh.close();
    }
  }
  const src = await openSource(location, { ...storage.sourceOptions, prefetchTail: 0 });
  try {
    let crc = 0;
    for (let at = 0; at < src.size; at += PIECE) {
      const piece = await src.read(at, Math.min(PIECE, src.size - at));
      crc = crc32(piece, crc);
      await onPiece?.(piece);
    }
    return { bytes: src.size, crc32: crc };
  } finally {
    await src.close();
  }
}
