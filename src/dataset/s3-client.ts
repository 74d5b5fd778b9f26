/**
 * The few S3 requests a dataset needs beyond ranged reads: GET of a whole
 * small object, PUT, DELETE, ListObjectsV2 and multipart upload, each signed
 * with SigV4 by aws4fetch exactly as src/sources/s3-source.ts signs its reads,
 * with the same configuration chain (options, AWS_* environment, profile).
 * Transient failures (network, 408, 429, 5xx) are retried with bounded backoff.
 */
import { AwsV4Signer } from "aws4fetch";
import { RemoteError } from "../errors.js";
import { backoffMs, sleep, type RetryPolicy } from "../sources/retry.js";
import { objectUrlOf, resolveS3Config, type S3SourceOptions } from "../sources/s3-source.js";

type Config = Awaited<ReturnType<typeof resolveS3Config>>;

const POLICY: RetryPolicy = {
  retries: 5,
  baseDelayMs: 50,
  maxDelayMs: 2000,
  retryAfterMaxMs: 10_000,
  random: Math.random,
};

/** One object of a listing. */
export interface ListedObject {
  key: string;
  size: number;
}

export class S3Client {
  private readonly cache = new Map<string, ArrayBuffer>();
  private constructor(
    private readonly config: Config,
    readonly bucket: string,
  ) {}

  static async create(bucket: string, options: S3SourceOptions = {}): Promise<S3Client> {
    return new S3Client(await resolveS3Config(options), bucket);
  }

  /** `s3://bucket/key`, for messages. */
  urlOf(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  /** The whole object, or undefined when it does not exist. */
  async get(key: string): Promise<Uint8Array | undefined> {
    const res = await this.send("GET", key, undefined, {}, [404]);
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    return new Uint8Array(await res.arrayBuffer());
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const res = await this.send("PUT", key, body);
    await res.body?.cancel();
  }

  async delete(key: string): Promise<void> {
    const res = await this.send("DELETE", key, undefined, {}, [404]);
    await res.body?.cancel();
  }

  /** Every object under `prefix` (ListObjectsV2, following continuation tokens). */
  async list(prefix: string): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    let token: string | undefined;
    do {
      const q = new URLSearchParams({ "list-type": "2", prefix });
      if (token !== undefined) q.set("continuation-token", token);
      const res = await this.send("GET", "", undefined, {}, [], q);
      const xml = await res.text();
      for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const key = xmlText(/<Key>([\s\S]*?)<\/Key>/.exec(m[1]!)?.[1] ?? "");
        const size = Number(/<Size>(\d+)<\/Size>/.exec(m[1]!)?.[1] ?? "0");
        out.push({ key, size });
      }
      const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
      token = truncated
        ? xmlText(/<NextContinuationToken>([\s\S]*?)<\/NextContinuationToken>/.exec(xml)?.[1] ?? "")
        : undefined;
    } while (token !== undefined && token !== "");
    return out;
  }

  /**
   * Upload an object in parts (S3 multipart upload): `parts` yields the
   * bodies in order, each but the last at least 5 MiB (S3's minimum). An
   * upload that fails is aborted, so no parts are left billed; the object
   * appears only when the completion succeeds, whole.
   */
  async putMultipart(key: string, parts: AsyncIterable<Uint8Array>): Promise<void> {
    const created = await (
      await this.send("POST", key, undefined, {}, [], new URLSearchParams({ uploads: "" }))
    ).text();
    const uploadId = xmlText(/<UploadId>([\s\S]*?)<\/UploadId>/.exec(created)?.[1] ?? "");
    if (uploadId === "") throw new RemoteError(this.urlOf(key), undefined, "CreateMultipartUpload gave no UploadId");
    const etags: string[] = [];
    try {
      let n = 1;
      for await (const body of parts) {
        const q = new URLSearchParams({ partNumber: String(n), uploadId });
        const res = await this.send("PUT", key, body, {}, [], q);
        await res.body?.cancel();
        etags.push(res.headers.get("etag") ?? "");
        n++;
      }
      const xml =
        "<CompleteMultipartUpload>" +
        etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join("") +
        "</CompleteMultipartUpload>";
      const done = await this.send(
        "POST",
        key,
        new TextEncoder().encode(xml),
        {},
        [],
        new URLSearchParams({ uploadId }),
      );
      const text = await done.text();
      // S3 can answer 200 with an error document for a completion that failed.
      if (/<Error>/.test(text)) throw new RemoteError(this.urlOf(key), done.status, `CompleteMultipartUpload: ${text}`);
    } catch (e) {
      await this.send("DELETE", key, undefined, {}, [404], new URLSearchParams({ uploadId })).then(
        (r) => r.body?.cancel(),
        () => undefined,
      );
      throw e;
    }
  }

  private async send(
    method: string,
    key: string,
    body: Uint8Array | undefined,
    headers: Record<string, string> = {},
    accept: readonly number[] = [],
    query?: URLSearchParams,
  ): Promise<Response> {
    const base =
      key === ""
        ? `${objectUrlOf(this.config, this.bucket, "x").replace(/\/x$/, "")}/`
        : objectUrlOf(this.config, this.bucket, key);
    const url =
      query === undefined
        ? base
        : `${base}?${query
            .toString()
            .replace(/^uploads=$/, "uploads")
            .replace(/\+/g, "%20")}`;
    const what = `${this.urlOf(key)} (${method}${query ? ` ${query.toString()}` : ""})`;
    for (let attempt = 0; ; attempt++) {
      let res: Response | undefined;
      let failure: unknown;
      try {
        const init: RequestInit = { method, headers: { ...headers } };
        if (body !== undefined) init.body = body;
        const creds = this.config.credentials;
        if (creds === undefined) {
          res = await fetch(url, init);
        } else {
          const signer = new AwsV4Signer({
            method,
            url,
            headers: init.headers as Record<string, string>,
            body: body as RequestInit["body"] as string | undefined,
            accessKeyId: creds.accessKeyId,
            secretAccessKey: creds.secretAccessKey,
            sessionToken: creds.sessionToken,
            service: "s3",
            region: this.config.region,
            cache: this.cache,
          });
          const signed = await signer.sign();
          res = await fetch(signed.url.toString(), { method, headers: signed.headers, body: signed.body ?? null });
        }
      } catch (e) {
        failure = e;
      }
      if (res !== undefined && (res.ok || accept.includes(res.status))) return res;
      const status = res?.status;
      const transient = status === undefined || status === 408 || status === 429 || status >= 500;
      if (!transient || attempt >= POLICY.retries) {
        const text = res === undefined ? String(failure) : (await res.text()).slice(0, 300);
        throw new RemoteError(what, status, text, { cause: failure });
      }
      await res?.body?.cancel();
      await sleep(backoffMs(POLICY, attempt, undefined), new AbortController().signal);
    }
  }
}

function xmlText(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}
