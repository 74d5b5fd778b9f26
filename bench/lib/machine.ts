/** The machine, runtime and package versions a result was measured with, recorded next to the figures. */
import { readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem, type as osType } from "node:os";
import { createRequire } from "node:module";
import type { MachineInfo } from "./results.js";

const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    // Packages whose exports map hides package.json: read it from node_modules directly
    // (bench/node_modules for the peers, the root one for vlstore's own dependencies).
    for (const modules of ["node_modules/", "../node_modules/"]) {
      try {
        const path = new URL(`${modules}${name}/package.json`, new URL("../", import.meta.url));
        return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
      } catch {
        // try the next folder
      }
    }
    return "unknown";
  }
}

export function machineInfo(command: string): MachineInfo {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${osType()} ${release()}`,
    node: process.version,
    date: new Date().toISOString(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    command,
    packages: Object.fromEntries(
      ["lmdb", "better-sqlite3", "classic-level", "h5wasm", "@riaskov/mmap-io", "@mongodb-js/zstd", "flatbuffers"].map(
        (p) => [p, packageVersion(p)],
      ),
    ),
  };
}
