/**
 * The "Remote reads and open" section of docs/BENCHMARKS.md, rendered from
 * bench/results/remote.json (written by bench/remote.ts) between the
 * `<!-- bench:remote:start -->` and `<!-- bench:remote:end -->` markers, so
 * every figure in it comes from the results file.
 */

export interface RemoteGetMany {
  openRequests: number;
  requestsPerCall: number;
  bytesPerCall: number;
  msPerCall: number;
  recordsPerSec: number;
}

export interface RemoteScan {
  fileBytes: number;
  scanMBps: number;
  curlMBps: number;
  fraction: number;
}

export interface RemoteResult {
  machine: { date: string; command: string; loadAverage: number[]; cores: number };
  localOpen: { names: number; fileBytes: number; opens: number; vlstoreMs: number; lmdbMs: number; ratio: number };
  remote: Record<string, { records: number; getMany64: RemoteGetMany; scan: RemoteScan }>;
}

export const REMOTE_START = "<!-- bench:remote:start -->";
export const REMOTE_END = "<!-- bench:remote:end -->";

const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;

/** The section's body (without the markers). */
export function renderRemoteSection(r: RemoteResult): string {
  const o = r.localOpen;
  const m = r.machine;
  const lines = [
    `Measured ${m.date.slice(0, 16).replace("T", " ")} UTC with \`${m.command}\` (${m.cores} cores, load average ` +
      `${m.loadAverage.join(" / ")}); nginx on 127.0.0.1 (Debian nginx-light, sendfile on).`,
    "",
    "| measure | vlstore | reference | ratio |",
    "| --- | --- | --- | --- |",
    `| warm local open, ${o.names.toLocaleString("en-US")} embeddings (${mb(o.fileBytes)}), median of ${o.opens} | ` +
      `${o.vlstoreMs.toFixed(2)} ms | LMDB ${o.lmdbMs.toFixed(2)} ms | ${o.ratio.toFixed(2)} (goal <= 2) |`,
  ];
  for (const [name, w] of Object.entries(r.remote)) {
    const g = w.getMany64;
    const s = w.scan;
    lines.push(
      `| ${name}: remote open (${mb(s.fileBytes)}) | ${g.openRequests} requests | | goal <= 2 |`,
      `| ${name}: cold getMany(64), fresh open each call | ${g.requestsPerCall} requests, ${mb(g.bytesPerCall)}, ` +
        `${g.msPerCall.toFixed(1)} ms (${Math.round(g.recordsPerSec).toLocaleString("en-US")} records/s) | | |`,
      `| ${name}: full remote scan (entries()) | ${s.scanMBps.toFixed(1)} MB/s | curl ${s.curlMBps.toFixed(1)} MB/s | ` +
        `${(100 * s.fraction).toFixed(0)}% (goal >= 80%) |`,
    );
  }
  return lines.join("\n");
}

/** `doc` with the section between the markers replaced; throws when the markers are missing. */
export function withRemoteSection(doc: string, r: RemoteResult): string {
  const a = doc.indexOf(REMOTE_START);
  const b = doc.indexOf(REMOTE_END);
  if (a < 0 || b < a) throw new Error(`docs/BENCHMARKS.md has no ${REMOTE_START} ... ${REMOTE_END} section`);
  return `${doc.slice(0, a + REMOTE_START.length)}\n${renderRemoteSection(r)}\n${doc.slice(b)}`;
}
