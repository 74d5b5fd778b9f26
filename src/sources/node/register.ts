/** Node only: inject the Node pieces of the sources layer (local files, AWS profile files). */
import { registerFileSource } from "../open-source.js";
import { registerAwsProfileLoader } from "../s3-source.js";
import { loadAwsProfile } from "./aws-profile.js";
import { FileSource } from "./file-source.js";

let done = false;

/** Called once by the Node entry point (src/index.ts); idempotent. */
export function registerNodeSources(): void {
  if (done) return;
  done = true;
  registerFileSource((path) => FileSource.open(path));
  registerAwsProfileLoader(loadAwsProfile);
}
