/**
 * Tools and files from outside the repository that some tests use. A test that needs one skips
 * when it is missing, with a message naming the tool and the Debian package that provides it,
 * except under CI (CI=true), where .ci/run installs them and nothing may skip.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";

/** Debian's python3 (not a pyenv or venv one on PATH): the one python3-numpy installs into. */
export const PYTHON = "/usr/bin/python3";

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, "../..");

/** `../shared` beside the clone: present on the project's machines and in CI, not in a plain clone. */
export const SHARED = resolve(ROOT, "..", "shared");

/** Is running `file args` successful (exit 0)? */
export function runs(file: string, args: string[]): boolean {
  try {
    execFileSync(file, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Can Debian's python3 import `module`? (Hide numpy for a trial with PYTHONPATH=dir holding a failing numpy.py.) */
export function hasPythonModule(module: string): boolean {
  return existsSync(PYTHON) && runs(PYTHON, ["-c", `import ${module}`]);
}

/**
 * The `skip` option of a test that needs something from outside the repository: false when it is
 * available or under CI (where a missing tool must fail the test, not hide it), else the reason.
 */
export function skipUnless(available: boolean, what: string): false | string {
  if (available || process.env.CI) return false;
  return `${what} is missing (under CI=true this test runs and must not skip)`;
}
