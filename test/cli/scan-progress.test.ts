/**
 * The CLI's verify/recover scan reports through the library's ProgressOptions
 * (src/chunks/progress.ts), like every other long operation: bytes of the
 * file reached out of its size, records of the chunks checked, and an abort
 * stops it with AbortError.
 */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { scanArchive } from "../../src/cli/scan.js";
import type { Progress } from "../../src/chunks/progress.js";
import { bytesCodec } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { isVlstoreError } from "../../src/errors.js";
import { tempDir } from "../support/tmp.js";

const dir = tempDir();

test("scanArchive: onProgress counts the file's bytes and the records checked; a signal aborts it", async () => {
  const path = join(dir, "p.vls");
  const d = await Depot.open(path, bytesCodec, { chunkSize: 8 << 10, blockSize: 2 << 10, durable: false });
  for (let i = 0; i < 400; i++) await d.put(`n${i}`, new Uint8Array(100).fill(i & 255));
  await d.close();
  const size = statSync(path).size;
  const seen: Progress[] = [];
  const scan = await scanArchive(path, { onProgress: (p) => seen.push(p), progressIntervalMs: 0 });
  assert.equal(scan.chunks.length > 3, true);
  const last = seen.at(-1)!;
  assert.equal(last.operation, "scan");
  assert.equal(last.totalBytes, size);
  assert.equal(last.bytes, size);
  assert.equal(last.records, 400);
  assert.ok(seen.length > scan.chunks.length, `${seen.length} reports`);
  for (let k = 1; k < seen.length; k++) assert.ok(seen[k]!.bytes >= seen[k - 1]!.bytes, "bytes never go back");
  const controller = new AbortController();
  controller.abort(new Error("stop"));
  await assert.rejects(scanArchive(path, { signal: controller.signal }), (e) => isVlstoreError(e, "Aborted"));
});
