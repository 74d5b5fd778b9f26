/** What the browser counterparts of Node-only modules throw: a browser has no local paths. */
import { InvalidArgumentError } from "../../errors.js";

/** The typed error for a local-file operation attempted in the browser build. */
export function localOnly(what: string, path?: string): InvalidArgumentError {
  const where = path === undefined ? "" : `${path}: `;
  const reason = `${where}${what} needs local files, which the browser build has none of (open a URL, a Blob/File or a ByteSource)`;
  return new InvalidArgumentError("location", reason);
}
