/**
 * Node only: reads an AWS shared-config profile from ~/.aws/credentials and ~/.aws/config
 * (or AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE), the files every AWS SDK and the CLI
 * read. Only static keys, region and endpoint_url: no SSO, assume-role or credential_process.
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { AwsProfile, AwsProfileLoader } from "../s3-source.js";

/** Sections of an INI file: name -> key -> value (keys lower-cased). */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header !== null) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    // Indented lines belong to nested settings (`s3 =` blocks), which we do not read.
    if (kv !== null && current !== undefined && raw === raw.trimStart()) current.set(kv[1]!.toLowerCase(), kv[2]!);
  }
  return sections;
}

async function readIni(path: string): Promise<Map<string, Map<string, string>>> {
  try {
    return parseIni(await readFile(path, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw e;
  }
}

/** The {@link AwsProfileLoader} for Node. Resolves undefined when neither file has the profile. */
export const loadAwsProfile: AwsProfileLoader = async (name, env) => {
  const profile = name ?? (env.AWS_PROFILE || "default");
  const home = env.HOME || homedir();
  const credentials = await readIni(env.AWS_SHARED_CREDENTIALS_FILE || join(home, ".aws", "credentials"));
  const config = await readIni(env.AWS_CONFIG_FILE || join(home, ".aws", "config"));
  const cred = credentials.get(profile);
  // In the config file every profile but the default is written [profile NAME].
  const conf = config.get(profile === "default" ? "default" : `profile ${profile}`) ?? config.get(profile);
  if (cred === undefined && conf === undefined) return undefined;
  const pick = (key: string): string | undefined => cred?.get(key) ?? conf?.get(key);
  const out: AwsProfile = {};
  const set = (field: keyof AwsProfile, key: string): void => {
    const v = pick(key);
    if (v !== undefined && v !== "") out[field] = v;
  };
  set("accessKeyId", "aws_access_key_id");
  set("secretAccessKey", "aws_secret_access_key");
  set("sessionToken", "aws_session_token");
  set("region", "region");
  set("endpoint", "endpoint_url");
  return out;
};
