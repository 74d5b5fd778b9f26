/** The lines `vlstore verify` prints about files killed processes left beside an archive. */
import { findLeftovers, type Leftover } from "../chunks/leftovers.js";

export interface LeftoverReport {
  /** Leftovers whose creating process is dead (what the next writer open removes). */
  json: Array<Pick<Leftover, "path" | "kind" | "ownerPid">>;
  /** One indented line each, as verify prints them; none when there are none. */
  lines: string[];
}

export async function leftoverReport(file: string): Promise<LeftoverReport> {
  const dead = (await findLeftovers(file)).filter((l) => !l.ownerAlive);
  return {
    json: dead.map(({ path, kind, ownerPid }) => ({ path, kind, ownerPid })),
    lines: dead.map(
      (l) =>
        `  leftover: ${l.path} (${l.kind} file of ${l.ownerPid === undefined ? "a process" : `pid ${l.ownerPid}`}, ` +
        "which is no longer running; the next writer open removes it)",
    ),
  };
}
