import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { backoffMs, parseRetryAfter, type RetryPolicy } from "../../src/sources/retry.js";

const dir = resolve(import.meta.dirname, "../../src/sources");

test("the portable sources import no node:* module (the browser build reuses them unchanged)", () => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
  assert.ok(files.includes("http-source.ts") && files.includes("s3-source.ts"));
  for (const f of files) {
    const text = readFileSync(join(dir, f), "utf8");
    assert.doesNotMatch(text, /from\s+["'](node:|fs|path|os|http|https|net)["']/, f);
    assert.doesNotMatch(text, /from\s+["']\.\/node\//, `${f} must not import the Node-only folder`);
  }
});

test("backoff doubles from the base, stays within [cap/2, cap], and honours Retry-After up to its limit", () => {
  const policy = (r: number): RetryPolicy => ({
    retries: 5,
    baseDelayMs: 50,
    maxDelayMs: 2000,
    retryAfterMaxMs: 10_000,
    random: () => r,
  });
  assert.deepEqual(
    [0, 1, 2, 3, 6].map((n) => backoffMs(policy(0), n, undefined)),
    [25, 50, 100, 200, 1000],
  );
  const top = [0, 1, 2, 3, 6].map((n) => backoffMs(policy(0.999999), n, undefined).toFixed(0));
  assert.deepEqual(top, ["50", "100", "200", "400", "2000"]);
  assert.equal(backoffMs(policy(0), 0, 3000), 3000);
  assert.equal(backoffMs(policy(0), 0, 60_000), 10_000);
  assert.equal(backoffMs(policy(0), 3, 0), 200, "a Retry-After shorter than the backoff does not shorten it");
});

test("Retry-After: seconds or an HTTP date, anything else ignored", () => {
  const now = Date.UTC(2026, 11, 1, 12, 0, 0);
  assert.equal(parseRetryAfter("2", now), 2000);
  assert.equal(parseRetryAfter(new Date(now + 1500).toUTCString(), now), 1000, "HTTP dates have 1 s resolution");
  assert.equal(parseRetryAfter(new Date(now - 5000).toUTCString(), now), 0);
  assert.equal(parseRetryAfter("soon", now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
});
