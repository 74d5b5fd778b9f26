/**
 * The node:fs calls the store's open path makes directly (the rest go through
 * file-backing, lock and leftovers). Node-only: the browser build swaps this
 * module for src/browser/env/node-fs.ts (see src/browser/env/map.ts).
 */
export { stat } from "node:fs/promises";
