/**
 * The node:crypto and node:fs calls the Depot makes directly: unique and
 * content-addressed names, checkpoint files. Node-only: the browser build
 * swaps this module for src/browser/env/depot-env.ts (see src/browser/env/map.ts).
 */
export { createHash, randomUUID } from "node:crypto";
export { readFile, rm } from "node:fs/promises";
