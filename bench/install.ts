/**
 * `npm run bench` runs this first: the benchmark peers (LMDB, SQLite, LevelDB, HDF5)
 * live in bench/package.json, not the root one, so that `npm ci` for the demo
 * and the tests does not compile better-sqlite3 and friends. Installs them with
 * `npm ci` when bench/node_modules is missing or older than bench/package-lock.json.
 */
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BENCH = fileURLToPath(new URL(".", import.meta.url));
const lock = `${BENCH}package-lock.json`;
// npm ci writes node_modules/.package-lock.json last, so its mtime marks a finished install.
const installed = `${BENCH}node_modules/.package-lock.json`;

if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  process.stderr.write(
    "bench: installing the benchmark peers (bench/package.json: lmdb, better-sqlite3, classic-level, h5wasm)...\n",
  );
  // npm-cli.js through process.execPath: the same npm that runs this script, no shell.
  const npm = process.env.npm_execpath;
  const [cmd, args] = npm ? [process.execPath, [npm]] : ["npm", []];
  execFileSync(cmd, [...args, "ci", "--no-audit", "--no-fund"], { cwd: BENCH, stdio: "inherit" });
}
