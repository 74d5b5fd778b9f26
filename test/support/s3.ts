/**
 * An S3-protocol server for tests: s3rver (npm) in-process on 127.0.0.1, storing into a temp
 * directory, with one bucket. It stands in for S3/MinIO/R2; it is not a production store.
 * What s3rver 3.7 does NOT check or do like S3 (so tests here cannot catch mistakes in them):
 * - SigV4 signatures are not verified: any signature made with a known access key id (the
 *   built-in S3RVER/S3RVER) is accepted, so a wrong secret, region, date or canonical request
 *   goes unnoticed; only V2 signatures are really checked.
 * - `If-Match` and `If-Unmodified-Since` on GET are ignored (only If-None-Match and
 *   If-Modified-Since are honoured): a reader must check the answer's ETag itself.
 * - A suffix range `bytes=-N` is misread as `bytes=0-N`. By default the harness rewrites it into
 *   the explicit tail range S3 would serve (`fixSuffixRanges`); turn that off to see the raw
 *   behaviour.
 * - `bytes=0-0` is served as the whole object (an end of 0 is taken for "no end"); HttpSource
 *   rejects that answer as SourceChangedError (Content-Range mismatch), so avoid 1-byte reads
 *   at offset 0 in tests against s3rver.
 * - No IAM/bucket policies, no SSE, no checksums beyond the MD5 ETag, no request rate limits,
 *   no eventual-consistency effects, no multi-part ETags unless multipart upload is used.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { after } from "node:test";
import { AwsClient } from "aws4fetch";
import S3rver from "s3rver";
import { tempDir } from "./tmp.js";

/** s3rver's built-in credentials. */
export const S3RVER_KEY = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

export interface S3Server {
  /** http://127.0.0.1:PORT, the endpoint (path-style). */
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  /** s3://bucket/key */
  urlOf(key: string): string;
  /** PUT an object (signed, through the S3 protocol). Resolves the ETag. */
  put(key: string, bytes: Uint8Array): Promise<string>;
  /** Options for S3Source/openSource that reach this server. */
  readonly sourceOptions: {
    endpoint: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
    forcePathStyle: true;
  };
}

export interface StartS3Options {
  /** Bucket to create. Default "vlstore-test". */
  bucket?: string;
  /** Rewrite suffix ranges (`bytes=-N`) as S3 serves them; s3rver alone misreads them. Default true. */
  fixSuffixRanges?: boolean;
}

type Store = { getMetadata(bucket: string, key: string): Promise<Record<string, string>> };

/** Start s3rver for this test file; it stops in after(). */
export async function startS3(options: StartS3Options = {}): Promise<S3Server> {
  const bucket = options.bucket ?? "vlstore-test";
  const region = "us-east-1";
  const s3 = new S3rver({
    directory: tempDir("vlstore-s3rver-"),
    silent: true,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  await s3.configureBuckets();
  const app = s3.callback();
  const store = (s3 as unknown as { store: Store }).store;
  const fix = options.fixSuffixRanges ?? true;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const suffix = /^bytes=-(\d+)$/.exec(req.headers.range ?? "");
    if (!fix || suffix === null) {
      void app(req, res);
      return;
    }
    const [, b = "", ...rest] = decodeURIComponent((req.url ?? "").split("?")[0]!).split("/");
    store.getMetadata(b, rest.join("/")).then(
      (meta) => {
        const size = Number(meta["content-length"]);
        if (size > 0) req.headers.range = `bytes=${Math.max(0, size - Number(suffix[1]))}-${size - 1}`;
        void app(req, res);
      },
      () => void app(req, res), // no such object: s3rver answers NoSuchKey itself
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  const endpoint = `http://127.0.0.1:${port}`;
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const logger = (s3 as unknown as { logger?: { close(): void } }).logger;
    logger?.close();
  });
  const client = new AwsClient({ ...S3RVER_KEY, service: "s3", region, retries: 0 });
  const objectUrl = (key: string): string =>
    `${endpoint}/${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
  return {
    endpoint,
    bucket,
    region,
    urlOf: (key) => `s3://${bucket}/${key}`,
    async put(key, bytes) {
      const res = await client.fetch(objectUrl(key), { method: "PUT", body: bytes });
      if (!res.ok) throw new Error(`s3rver PUT ${key}: ${res.status} ${await res.text()}`);
      await res.body?.cancel();
      return res.headers.get("etag") ?? "";
    },
    sourceOptions: { endpoint, region, ...S3RVER_KEY, forcePathStyle: true },
  };
}
