/**
 * The viewer page in real headless Chromium (Debian's chromium through
 * playwright-core): archives written with the Node API, served by nginx to a
 * page of another origin (CORS) and by `vlstore serve`. Screenshots of each
 * step go to test-artifacts/browser/.
 */
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { startServe, type RunningServer } from "../../src/cli/serve.js";
import { AtomicFrame, Embedding, embeddingCodec, embeddingName } from "../../src/codecs/index.js";
import { Depot, openFrames } from "../../src/depot/index.js";
import { LennardJonesFluid } from "../../src/demo/lennard-jones.js";
import { FILE_HEADER_SIZE } from "../../src/format/header.js";
import { Rng } from "../../src/random.js";
import { nginxSkip, startNginx, type NginxServer } from "../support/nginx.js";
import { artifact, chromiumSkip, launchChromium } from "./chromium.js";

/** The page functions below run in Chromium; the Node program has no DOM types, so name the little they touch. */
interface PageElement {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  value: string;
  dispatchEvent(e: Event): boolean;
  toDataURL(type: string): string;
}
declare const document: { getElementById(id: string): PageElement | null; body: PageElement };

const FRAMES = 60;
const ATOMS = 400;
const EMBEDDINGS = 3000;

const skip = chromiumSkip() || nginxSkip();

let nginx: NginxServer;
let viewer: RunningServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

// At the file's top level (as the other nginx tests): the servers' and the browser's after() hooks run when it ends.
if (!skip) {
  await (async () => {
    nginx = await startNginx({ cors: true });
    const fluid = new LennardJonesFluid({ atoms: ATOMS, seed: 14, equilibrationSteps: 100 });
    {
      await using d = await openFrames(join(nginx.root, "frames.vls"), { blockSize: 128 * 1024 });
      let i = 0;
      for (const f of fluid.frames(FRAMES)) {
        const init = { atomTypes: fluid.atomTypes, masses: fluid.masses, box: fluid.box };
        await d.put(`traj/frame-${String(i++).padStart(4, "0")}`, AtomicFrame.from({ ...init, ...f }));
      }
    }
    {
      const rng = new Rng(141);
      await using d = await Depot.open(join(nginx.root, "emb.vls"), embeddingCodec, {
        chunkSize: 64 * 1024,
        blockSize: 16 * 1024,
      });
      for (let k = 0; k < EMBEDDINGS; k++) {
        const group = k % 10;
        const weights = Float32Array.from({ length: 48 }, () => 0.1 * rng.normal());
        await d.put(embeddingName(group, k), Embedding.from({ key: k, group, weights }));
      }
    }
    // A copy with one byte flipped in the middle of chunk 0, and a file that is no archive at all.
    const bytes = readFileSync(join(nginx.root, "emb.vls"));
    {
      await using d = await Depot.open(join(nginx.root, "emb.vls"), embeddingCodec, { readOnly: true });
      bytes[FILE_HEADER_SIZE + Math.floor(d.chunkStore.chunkSummaries()[0]!.storedBytes / 2)]! ^= 0x5a;
    }
    writeFileSync(join(nginx.root, "damaged.vls"), bytes);
    writeFileSync(join(nginx.root, "notes.vls"), "these are my notes, not an archive\n".repeat(200));
    copyFileSync(join(nginx.root, "emb.vls"), join(nginx.root, "local-copy.vls"));
    viewer = await startServe({ location: nginx.root, port: 0 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 950 } });
    page.on("pageerror", (e) => pageErrors.push(e.message));
    after(() => viewer.close());
  })();
}

describe("the viewer in headless Chromium", { skip, timeout: 180_000 }, () => {
  const recordJson = async (): Promise<Record<string, unknown>> =>
    JSON.parse((await page.textContent("#record-json")) ?? "") as Record<string, unknown>;
  const canvasPixels = (): Promise<string> =>
    page.$eval("#frame-canvas", (c) => (c as unknown as PageElement).toDataURL("image/png"));
  const summary = (key: string): Promise<string | null> => page.textContent(`#summary dd[data-key="${key}"]`);
  async function openUrl(url: string): Promise<void> {
    await page.fill("#url", url);
    await page.click('#open-form button[type="submit"]');
    await page.waitForFunction(
      (u) => document.getElementById("status")?.textContent?.includes(u) && document.body.dataset.state !== undefined,
      url,
    );
    await page.waitForFunction(() => !document.getElementById("status")?.textContent?.startsWith("opening"));
  }
  async function showName(name: string): Promise<void> {
    await page.fill("#search", name);
    await page.click('#names-list li[data-index="0"]');
    await page.waitForFunction(
      (n) =>
        document.getElementById("record-name")?.textContent === n &&
        (document.getElementById("record-json")?.dataset.name === n ||
          (document.getElementById("record-error")?.textContent ?? "") !== ""),
      name,
    );
  }

  it("opens a remote trajectory from another origin and shows the counts Node reads", async () => {
    const url = nginx.urlOf("frames.vls");
    await page.goto(`${viewer.url}/?src=${encodeURIComponent(url)}`);
    await page.waitForSelector("#frame-canvas[data-draws]");
    await page.screenshot({ path: artifact("01-trajectory-open.png"), fullPage: true });
    await using node = await openFrames(join(nginx.root, "frames.vls"), { readOnly: true });
    const s = node.stats();
    assert.equal(await page.getAttribute("#summary", "data-records"), String(s.records));
    assert.equal(await page.getAttribute("#summary", "data-names"), String(FRAMES));
    assert.equal(await page.getAttribute("#summary", "data-chunks"), String(s.chunks));
    assert.equal(await summary("codec"), node.codec.name);
    assert.match((await summary("blocks")) ?? "", new RegExp(`^${s.blocks}$`));
    assert.equal(await page.getAttribute("#names-list", "data-total"), String(FRAMES));
    assert.match((await summary("openRequests")) ?? "", /^[12] requests$/, "a remote open costs at most 2 requests");
  });

  it("a frame's values read out of the page equal what Node reads", async () => {
    await using node = await openFrames(join(nginx.root, "frames.vls"), { readOnly: true });
    const first = await recordJson();
    const want = (await node.get("traj/frame-0000"))!;
    assert.deepEqual(first.positions, Array.from(want.positions));
    assert.deepEqual(first.forces, Array.from(want.forces));
    assert.equal(first.step, want.step);
    assert.equal(first.nSites, ATOMS);
  });

  it("the slider moves through frames: the drawn frame index and the pixels change; play advances", async () => {
    await using node = await openFrames(join(nginx.root, "frames.vls"), { readOnly: true });
    const before = await canvasPixels();
    await page.$eval("#frame-slider", (s) => {
      (s as unknown as PageElement).value = "30";
      s.dispatchEvent(new Event("input"));
    });
    await page.waitForSelector('#frame-canvas[data-frame="30"]');
    await page.screenshot({ path: artifact("02-slider-frame-30.png"), fullPage: true });
    assert.notEqual(await canvasPixels(), before, "frame 30 draws different pixels from frame 0");
    const json = await recordJson();
    assert.deepEqual(json.positions, Array.from((await node.get("traj/frame-0030"))!.positions));
    await page.click("#play");
    await page.waitForFunction(() => Number(document.getElementById("frame-canvas")?.dataset.frame) >= 40);
    await page.click("#play");
    await page.screenshot({ path: artifact("03-played.png"), fullPage: true });
    const at = Number(await page.getAttribute("#frame-canvas", "data-frame"));
    assert.ok(at >= 40 && at < FRAMES, `play advanced to frame ${at}`);
  });

  it("a name search finds the right embedding record, shown with its weights", async () => {
    await openUrl(nginx.urlOf("emb.vls"));
    await using node = await Depot.open(join(nginx.root, "emb.vls"), embeddingCodec, { readOnly: true });
    await page.fill("#search", "g/7/");
    await page.waitForFunction(() => document.getElementById("names-list")?.dataset.total === "300");
    const shown = await page.$$eval("#names-list li", (lis) => lis.map((li) => li.textContent ?? ""));
    assert.deepEqual(shown, node.keys({ prefix: "g/7/" }).slice(0, 100), "first page: the sorted matching names");
    const name = embeddingName(7, 2417);
    await showName(name);
    await page.screenshot({ path: artifact("04-search-embedding.png"), fullPage: true });
    const json = await recordJson();
    const want = (await node.get(name))!;
    assert.equal(json.key, "2417");
    assert.equal(json.group, 7);
    assert.deepEqual(json.weights, Array.from(want.weights));
    const bins = (await page.getAttribute("#embedding-histogram", "data-bins"))!.split(",").map(Number);
    assert.equal(
      bins.reduce((a, b) => a + b, 0),
      48,
      "the histogram counts every weight",
    );
  });

  it("a local file set through the file input opens (a Blob, no server involved)", async () => {
    await page.setInputFiles("#file", join(nginx.root, "local-copy.vls"));
    await page.waitForFunction(() => document.getElementById("status")?.textContent?.startsWith("opened local-copy"));
    await page.waitForSelector("#record-json[data-name]");
    await page.screenshot({ path: artifact("05-local-file.png"), fullPage: true });
    assert.equal(await page.getAttribute("#summary", "data-records"), String(EMBEDDINGS));
    assert.equal(await summary("location"), "local-copy.vls");
    await showName(embeddingName(3, 13));
    assert.equal((await recordJson()).key, "13");
  });

  it("a damaged archive shows its ChecksumError for the damaged records; the rest stays readable", async () => {
    await openUrl(`${viewer.url}/files/damaged.vls`);
    assert.equal(await page.getAttribute("#summary", "data-records"), String(EMBEDDINGS), "the index still reads");
    // Which records the flipped byte damaged, as Node reads the same file.
    await using node = await Depot.open(join(nginx.root, "damaged.vls"), embeddingCodec, { readOnly: true });
    let damagedName: string | undefined;
    let healthy: string | undefined;
    for (const { name } of node.records()) {
      const ok = await node.get(name).then(
        () => true,
        () => false,
      );
      if (ok) healthy ??= name;
      else damagedName ??= name;
    }
    assert.ok(damagedName !== undefined && healthy !== undefined, "the damage hits some records and spares others");
    await showName(damagedName);
    await page.screenshot({ path: artifact("06-damaged-record.png"), fullPage: true });
    const error = (await page.textContent("#record-error")) ?? "";
    assert.match(error, /^ChecksumError: /);
    assert.match(error, /chunk 0/);
    await showName(healthy);
    assert.equal(await page.textContent("#record-error"), "");
    assert.equal(`g/${(await recordJson()).group}/${(await recordJson()).key}`, healthy);
  });

  it("a file that is no archive shows NotAnArchiveError, and the page still opens the next archive", async () => {
    await openUrl(nginx.urlOf("notes.vls"));
    await page.screenshot({ path: artifact("07-not-an-archive.png"), fullPage: true });
    assert.equal(await page.getAttribute("#error", "data-name"), "NotAnArchiveError");
    assert.match((await page.textContent("#error")) ?? "", /^NotAnArchiveError: .*notes\.vls/);
    assert.equal(await page.textContent("#summary"), "", "nothing of the previous archive is left on the page");
    await openUrl(nginx.urlOf("frames.vls"));
    await page.waitForSelector("#frame-canvas[data-draws]");
    assert.equal(await page.getAttribute("#error", "data-name"), null, "the error is cleared by the next open");
    assert.deepEqual(pageErrors, [], "no uncaught errors in the page");
  });
});
