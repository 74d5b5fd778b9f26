import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { isVlstoreError } from "../../src/errors.js";
import { HttpSource } from "../../src/sources/http-source.js";
import { loadAwsProfile } from "../../src/sources/node/aws-profile.js";
import { openSource } from "../../src/sources/open-source.js";
import { parseS3Url, resolveS3Config, S3Source } from "../../src/sources/s3-source.js";
import { startS3 } from "../support/s3.js";
import { tempDir } from "../support/tmp.js";
import { archiveLikeBytes, assertSameBytes } from "./helpers.js";

const s3 = await startS3();
const raw = await startS3({ bucket: "raw", fixSuffixRanges: false });
const bytes = archiveLikeBytes(400_000, 31);
/** s3rver 3.7 serves `bytes=0-0` as the whole object (an end of 0 reads as "no end"); see the test below. */
const zeroZero = (offset: number, length: number): boolean => offset === 0 && length === 1;

test("S3Source over s3rver: one signed request opens and keeps the tail; ranges equal the object", async () => {
  const etag = await s3.put("runs/a 1.vls", bytes);
  const src = await S3Source.open(s3.urlOf("runs/a 1.vls"), s3.sourceOptions);
  assert.ok(src instanceof HttpSource, "an S3 source is a signed HTTP source");
  assert.equal(src.location, "s3://vlstore-test/runs/a 1.vls");
  assert.deepEqual([src.size, src.etag, src.stats().requests], [bytes.length, etag, 1]);
  assert.ok(Buffer.from(await src.read(bytes.length - 65536, 65536)).equals(bytes.subarray(-65536)));
  assert.equal(src.stats().requests, 1);
  await assertSameBytes(src, bytes, 60, 6, zeroZero);
  await src.close();
  const head = await S3Source.open(s3.urlOf("runs/a 1.vls"), { ...s3.sourceOptions, prefetchTail: 0 });
  assert.deepEqual([head.size, head.etag, head.stats().requests], [bytes.length, etag, 1]);
});

test("S3Source: a server misreading suffix ranges (raw s3rver) costs a second request, not wrong bytes", async () => {
  await raw.put("a.vls", bytes);
  const src = await S3Source.open(raw.urlOf("a.vls"), { ...raw.sourceOptions, prefetchTail: 8192 });
  assert.deepEqual([src.size, src.prefetched?.offset, src.stats().requests], [bytes.length, bytes.length - 8192, 2]);
  assert.ok(Buffer.from(src.prefetched!.bytes).equals(bytes.subarray(-8192)));
});

test("S3Source: s3rver's answer to bytes=0-0 (the whole object) is SourceChangedError, never wrong bytes", async () => {
  await s3.put("c.vls", bytes);
  const src = await S3Source.open(s3.urlOf("c.vls"), s3.sourceOptions);
  await assert.rejects(src.read(0, 1), (e) => {
    assert.ok(isVlstoreError(e, "SourceChanged"), String(e));
    const n = bytes.length;
    assert.deepEqual([e.expected, e.actual], [`"bytes 0-0/${n}"`, `"bytes 0-${n - 1}/${n}"`]);
    return true;
  });
  assert.ok(Buffer.from(await src.read(0, 2)).equals(bytes.subarray(0, 2)));
});

test("S3Source: a replaced object is SourceChangedError (s3rver ignores If-Match); refresh adopts it", async () => {
  const first = await s3.put("b.vls", bytes);
  const src = await openSource(s3.urlOf("b.vls"), { ...s3.sourceOptions, prefetchTail: 1024 });
  const grown = new Uint8Array(bytes.length + 3000);
  grown.set(bytes);
  grown.set(archiveLikeBytes(3000, 32), bytes.length);
  const second = await s3.put("b.vls", grown);
  await assert.rejects(src.read(0, 10), (e) => {
    assert.ok(isVlstoreError(e, "SourceChanged"), String(e));
    assert.deepEqual([e.what, e.expected, e.actual], ["ETag", first, second]);
    return true;
  });
  assert.equal(await src.refresh!(), true);
  assert.equal(src.size, grown.length);
  await assertSameBytes(src, grown, 10, 7, zeroZero);
});

test("S3Source: a missing key is RemoteError 404 naming the s3:// location", async () => {
  await assert.rejects(S3Source.open(s3.urlOf("nope.vls"), s3.sourceOptions), (e) => {
    assert.ok(isVlstoreError(e, "Remote"), String(e));
    assert.equal(e.status, 404);
    assert.match(e.message, /s3:\/\/vlstore-test\/nope\.vls/);
    return true;
  });
  assert.throws(
    () => parseS3Url("s3://bucket-only"),
    (e) => isVlstoreError(e, "InvalidArgument"),
  );
});

test("S3 configuration: options, then the environment, then the profile files", async () => {
  const dir = tempDir();
  mkdirSync(join(dir, ".aws"));
  writeFileSync(
    join(dir, ".aws", "credentials"),
    "[default]\naws_access_key_id = DEF\naws_secret_access_key = defsecret\n\n" +
      "[work]\naws_access_key_id=WORK\naws_secret_access_key=worksecret\naws_session_token=tok\n",
  );
  writeFileSync(
    join(dir, ".aws", "config"),
    "[default]\nregion = eu-west-1\n[profile work]\nregion = eu-north-1\n" +
      "endpoint_url = https://r2.example.com\ns3 =\n  addressing_style = path\n",
  );
  const base = { HOME: dir };
  const viaProfile = await resolveS3Config({ env: { ...base, AWS_PROFILE: "work" }, profileLoader: loadAwsProfile });
  assert.deepEqual(viaProfile, {
    endpoint: "https://r2.example.com",
    region: "eu-north-1",
    forcePathStyle: true,
    signed: true,
    credentials: { accessKeyId: "WORK", secretAccessKey: "worksecret", sessionToken: "tok" },
  });
  const viaEnv = await resolveS3Config({
    env: {
      ...base,
      AWS_ACCESS_KEY_ID: "ENV",
      AWS_SECRET_ACCESS_KEY: "envsecret",
      AWS_DEFAULT_REGION: "ap-south-1",
      AWS_ENDPOINT_URL: "http://other:1",
      AWS_ENDPOINT_URL_S3: "http://minio:9000/",
    },
    profileLoader: loadAwsProfile,
  });
  assert.deepEqual(viaEnv, {
    endpoint: "http://minio:9000",
    region: "ap-south-1",
    forcePathStyle: true,
    signed: true,
    credentials: { accessKeyId: "ENV", secretAccessKey: "envsecret", sessionToken: undefined },
  });
  const viaOptions = await resolveS3Config({
    env: { ...base, AWS_REGION: "us-west-2" },
    profileLoader: loadAwsProfile,
    region: "sa-east-1",
    accessKeyId: "OPT",
    secretAccessKey: "optsecret",
    forcePathStyle: false,
  });
  const o = viaOptions;
  assert.deepEqual(
    [o.region, o.endpoint, o.forcePathStyle, o.credentials?.accessKeyId],
    ["sa-east-1", "https://s3.sa-east-1.amazonaws.com", false, "OPT"],
  );
  const anonymous = await resolveS3Config({ env: {}, profileLoader: async () => undefined });
  assert.deepEqual(
    [anonymous.signed, anonymous.endpoint, anonymous.forcePathStyle],
    [false, "https://s3.us-east-1.amazonaws.com", false],
  );
  const halfKey = resolveS3Config({ env: {}, accessKeyId: "only-the-id" });
  await assert.rejects(halfKey, (e) => isVlstoreError(e, "InvalidArgument"));
});
