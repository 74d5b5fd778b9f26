/**
 * Regenerates docs/viewer.png: a Lennard-Jones trajectory served by `vlstore serve`, opened
 * in headless Chromium (Debian's chromium), frame 120 shown. `npx tsx scripts/viewer-screenshot.ts`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { startServe } from "../src/cli/serve.js";
import { AtomicFrame } from "../src/codecs/index.js";
import { openFrames } from "../src/depot/index.js";
import { LennardJonesFluid } from "../src/demo/lennard-jones.js";

const dir = mkdtempSync(join(tmpdir(), "vlstore-shot-"));
try {
  const fluid = new LennardJonesFluid({ atoms: 500, seed: 5, equilibrationSteps: 2000, temperature: 1.2 });
  {
    await using d = await openFrames(join(dir, "frames.vls"));
    let i = 0;
    for (const f of fluid.frames(300)) {
      const init = { atomTypes: fluid.atomTypes, masses: fluid.masses, box: fluid.box };
      await d.put(`frame/${String(i++).padStart(6, "0")}`, AtomicFrame.from({ ...init, ...f }));
    }
  }
  const server = await startServe({ location: join(dir, "frames.vls"), port: 0 });
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    await page.goto(server.viewerUrls[0]!);
    await page.waitForSelector("#frame-canvas[data-draws]");
    await page.fill("#search", "frame/0001");
    await page.$eval("#frame-slider", (s) => {
      (s as unknown as { value: string }).value = "20";
      s.dispatchEvent(new Event("input"));
    });
    await page.waitForSelector('#frame-canvas[data-frame="20"]');
    await page.evaluate("window.scrollTo(0, 0)"); // back to the top: filling the search box scrolled it into view
    await page.screenshot({ path: resolve(import.meta.dirname, "../docs/viewer.png") });
  } finally {
    await browser.close();
    await server.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
