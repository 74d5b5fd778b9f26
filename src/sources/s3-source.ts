/**
 * `s3://bucket/key` as a ByteSource: S3 GetObject with `Range`, i.e. an {@link HttpSource}
 * whose every request is SigV4-signed. All the range, version-pinning and retry logic is the
 * HTTP source's; this file only resolves configuration and signs.
 *
 * Why `aws4fetch` and not `@aws-sdk/client-s3`: reading needs one signed GET, and aws4fetch is
 * a ~10 KB, dependency-free SigV4 signer over WebCrypto and `fetch`, so this file stays portable
 * (Node and browsers, which a later issue needs); the SDK is Node-centred, pulls dozens of
 * packages, brings its own retry layer we would have to disable, and its releases after
 * January 2027 require Node 22 while we support Node 20. We use its signer (`AwsV4Signer`)
 * only, not its fetch wrapper, whose own retries would stack on ours.
 *
 * Configuration, per field, first found wins: the options object; the environment
 * (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS_REGION, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID +
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); the profile AWS_PROFILE (or "default") from
 * ~/.aws/credentials and ~/.aws/config, read by a loader the Node entry point injects
 * ({@link registerAwsProfileLoader}); portable code has no files to read.
 */
import { AwsV4Signer } from "aws4fetch";
import { InvalidArgumentError } from "../errors.js";
import { HttpSource, type FetchLike, type HttpSourceOptions } from "./http-source.js";

/** What a shared-config profile can give. */
export interface AwsProfile {
  region?: string;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

/** Reads profile `name` (undefined: AWS_PROFILE or "default") from the shared config files. */
export type AwsProfileLoader = (
  name: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
) => Promise<AwsProfile | undefined>;

let injectedProfileLoader: AwsProfileLoader | undefined;

/** Install the shared-config reader (Node: src/sources/node/aws-profile.ts). */
export function registerAwsProfileLoader(loader: AwsProfileLoader | undefined): void {
  injectedProfileLoader = loader;
}

/** Options of {@link S3Source.open}; the HTTP options (retries, timeouts, tail) apply too. */
export interface S3SourceOptions extends Omit<HttpSourceOptions, "location"> {
  /**
   * Endpoint URL, e.g. `http://127.0.0.1:9000` for MinIO or an R2 account endpoint.
   * Default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's endpoint_url, else
   * `https://s3.<region>.amazonaws.com`.
   */
  endpoint?: string;
  /** Signing region. Default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else "us-east-1". */
  region?: string;
  /** Default: AWS_ACCESS_KEY_ID, else the profile's. With no key at all, requests go unsigned (public objects). */
  accessKeyId?: string;
  /** Default: AWS_SECRET_ACCESS_KEY (with AWS_ACCESS_KEY_ID), else the profile's. */
  secretAccessKey?: string;
  /** Default: AWS_SESSION_TOKEN when the key comes from the environment, else the profile's. */
  sessionToken?: string;
  /**
   * Address objects as `<endpoint>/<bucket>/<key>` instead of `<bucket>.<endpoint host>/<key>`.
   * Default: true when an endpoint is configured (MinIO, R2, s3rver and dotted bucket names
   * need it), false for AWS's own endpoint.
   */
  forcePathStyle?: boolean;
  /** Shared-config profile. Default: AWS_PROFILE, else "default". */
  profile?: string;
  /** Environment to read. Default: `process.env` where it exists (Node), else none. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Shared-config reader. Default: the one registered by the Node entry point, if any. */
  profileLoader?: AwsProfileLoader;
}

/** The configuration an S3 source ended up with (secrets left out). */
export interface ResolvedS3Config {
  endpoint: string;
  region: string;
  forcePathStyle: boolean;
  signed: boolean;
}

/** Split `s3://bucket/key` (the key taken verbatim: no decoding). */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (m === null) throw new InvalidArgumentError("location", `${JSON.stringify(url)} is not s3://bucket/key`);
  return { bucket: m[1]!, key: m[2]! };
}

const S3_ONLY = [
  "endpoint",
  "region",
  "accessKeyId",
  "secretAccessKey",
  "sessionToken",
  "forcePathStyle",
  "profile",
  "env",
  "profileLoader",
] as const satisfies readonly (keyof S3SourceOptions)[];

// biome-ignore lint/complexity/noStaticOnlyClass: the public counterpart of HttpSource.open (S3Source.open), kept as a class for symmetry
export class S3Source {
  /** Open `s3://bucket/key` (one request, as {@link HttpSource.open}). */
  static async open(url: string | URL, options: S3SourceOptions = {}): Promise<HttpSource> {
    const location = String(url);
    const { bucket, key } = parseS3Url(location);
    const config = await resolveS3Config(options);
    const objectUrl = objectUrlOf(config, bucket, key);
    const http: HttpSourceOptions = { ...options };
    for (const k of S3_ONLY) delete (http as Record<string, unknown>)[k];
    return HttpSource.open(objectUrl, { ...http, location, fetch: signingFetch(config, options.fetch) });
  }
}

interface S3Config extends ResolvedS3Config {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string | undefined } | undefined;
}

/** Resolve options, environment and profile into one configuration. */
export async function resolveS3Config(o: S3SourceOptions): Promise<S3Config> {
  const env = o.env ?? defaultEnv();
  const fromEnv = {
    endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
  };
  // Keys from the environment come as a pair, like the SDKs take them.
  const envKey =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          sessionToken: env.AWS_SESSION_TOKEN || undefined,
        }
      : undefined;
  const givenKey =
    o.accessKeyId !== undefined && o.secretAccessKey !== undefined
      ? { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey, sessionToken: o.sessionToken }
      : undefined;
  if ((o.accessKeyId === undefined) !== (o.secretAccessKey === undefined)) {
    throw new InvalidArgumentError("S3 credentials", "accessKeyId and secretAccessKey must be given together");
  }
  let profile: AwsProfile | undefined;
  const loader = o.profileLoader ?? injectedProfileLoader;
  const needProfile =
    (o.endpoint ?? fromEnv.endpoint) === undefined ||
    (o.region ?? fromEnv.region) === undefined ||
    (givenKey ?? envKey) === undefined;
  if (needProfile && loader !== undefined) profile = await loader(o.profile, env);
  const profileKey =
    profile?.accessKeyId && profile.secretAccessKey
      ? {
          accessKeyId: profile.accessKeyId,
          secretAccessKey: profile.secretAccessKey,
          sessionToken: profile.sessionToken,
        }
      : undefined;
  const region = o.region ?? fromEnv.region ?? profile?.region ?? "us-east-1";
  const custom = o.endpoint ?? fromEnv.endpoint ?? profile?.endpoint;
  const endpoint = (custom ?? `https://s3.${region}.amazonaws.com`).replace(/\/+$/, "");
  return {
    endpoint,
    region,
    forcePathStyle: o.forcePathStyle ?? custom !== undefined,
    credentials: givenKey ?? envKey ?? profileKey,
    signed: (givenKey ?? envKey ?? profileKey) !== undefined,
  };
}

function defaultEnv(): Readonly<Record<string, string | undefined>> {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env ?? {};
}

/** RFC 3986 encoding of each key segment, the form SigV4's canonical URI expects. */
function encodeKey(key: string): string {
  const hex = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase()}`;
  return key
    .split("/")
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, hex))
    .join("/");
}

export function objectUrlOf(config: ResolvedS3Config, bucket: string, key: string): string {
  if (config.forcePathStyle) return `${config.endpoint}/${encodeURIComponent(bucket)}/${encodeKey(key)}`;
  const u = new URL(config.endpoint);
  return `${u.protocol}//${bucket}.${u.host}${u.pathname.replace(/\/$/, "")}/${encodeKey(key)}`;
}

/** A fetch that signs each attempt afresh (the signature carries the time). */
function signingFetch(config: S3Config, inner: FetchLike | undefined): FetchLike {
  const send: FetchLike = inner ?? ((u, init) => globalThis.fetch(u, init));
  const creds = config.credentials;
  if (creds === undefined) return send;
  const cache = new Map<string, ArrayBuffer>();
  return async (url, init) => {
    const signer = new AwsV4Signer({
      method: init.method ?? "GET",
      url,
      headers: init.headers,
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      sessionToken: creds.sessionToken,
      service: "s3",
      region: config.region,
      cache,
    });
    const signed = await signer.sign();
    return send(signed.url.toString(), { ...init, method: signed.method, headers: signed.headers });
  };
}
