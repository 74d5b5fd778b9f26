/**
 * The page script of bench/browser.ts, bundled with the browser build: decodes
 * every record of a trajectory archive held in memory, with the decoder
 * asked for, and reports record bytes per second. Runs in Chromium.
 */
import { decompress } from "fzstd";
import { ZSTDDecoder } from "zstddec";
import { ChunkStore, MemorySource, setZstdDecoder } from "../src/browser/index.js";

export interface DecodeRun {
  decoder: string;
  rawBytes: number;
  /** Wall time of each round's getMany of every record, ms. */
  roundsMs: number[];
}

async function useDecoder(name: string): Promise<void> {
  if (name === "fzstd") {
    setZstdDecoder((data) => decompress(data));
  } else if (name === "zstddec") {
    const d = new ZSTDDecoder();
    await d.init();
    // zstddec needs the output size (the block index always knows it).
    setZstdDecoder((data, rawSize) => d.decode(data, rawSize));
  } else {
    throw new Error(`unknown decoder ${name}`);
  }
}

async function decodeArchive(url: string, decoder: string, rounds: number): Promise<DecodeRun> {
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  await useDecoder(decoder);
  const roundsMs: number[] = [];
  let rawBytes = 0;
  for (let r = 0; r < rounds; r++) {
    // A fresh store each round: nothing cached, every block fetched from memory, checked and decoded.
    const store = await ChunkStore.open(new MemorySource(bytes, url));
    const ids = Array.from({ length: store.recordCount }, (_, i) => i);
    const t = performance.now();
    await store.getMany(ids);
    roundsMs.push(performance.now() - t);
    rawBytes = store.stats().rawBytes;
    await store.close();
  }
  setZstdDecoder(undefined);
  return { decoder, rawBytes, roundsMs };
}

(globalThis as unknown as { vlstoreBench: unknown }).vlstoreBench = { decodeArchive };
