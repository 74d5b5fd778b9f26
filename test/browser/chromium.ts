/**
 * Headless Chromium for the browser tests: Debian's `chromium` driven by
 * playwright-core (never a downloaded browser: that fails on these
 * machines). Without chromium the tests skip when CI is unset, naming the
 * package; under CI=true they fail instead.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { after } from "node:test";
import { type Browser, chromium } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser"];

/** Where Chromium is installed, or undefined. */
export function chromiumBinary(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p));
}

/** Why browser tests skip (only when chromium is missing and CI is unset), or false to run them. */
export function chromiumSkip(): string | false {
  if (chromiumBinary() !== undefined || process.env.CI) return false;
  return "chromium not found; install Debian's chromium (apt-get install chromium)";
}

/** Launch headless Chromium for this test file; closed in after(). Throws when it is missing. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumBinary();
  if (executablePath === undefined) {
    throw new Error("chromium not found (/usr/bin/chromium); install Debian's chromium (apt-get install chromium)");
  }
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  after(() => browser.close());
  return browser;
}

/** test-artifacts/browser/ under the repository (gitignored): screenshots of each step. */
export function artifactsDir(): string {
  const dir = resolve(import.meta.dirname, "../../test-artifacts/browser");
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function artifact(name: string): string {
  return join(artifactsDir(), name);
}
