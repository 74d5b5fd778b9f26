import assert from "node:assert/strict";
import { test } from "node:test";
import { BlockCache } from "../../src/chunks/block-cache.js";

test("LRU by bytes: a hit refreshes, the least recently used goes first", () => {
  const c = new BlockCache(300);
  c.set(1, new Uint8Array(100));
  c.set(2, new Uint8Array(100));
  c.set(3, new Uint8Array(100));
  assert.ok(c.get(1));
  c.set(4, new Uint8Array(100));
  assert.equal(c.has(2), false, "2 was least recently used");
  assert.ok(c.has(1) && c.has(3) && c.has(4));
  assert.equal(c.bytes, 300);
  c.set(5, new Uint8Array(1000));
  assert.equal(c.has(5), false, "a block over the budget is not kept");
  c.set(3, new Uint8Array(50));
  assert.equal(c.bytes, 250);
  c.clear();
  assert.equal(c.bytes, 0);
  assert.equal(c.size, 0);
});
