/**
 * "I am downloading this page": the lock file `<page>.lock` of src/sources/node/lock.ts (link()-published,
 * naming its holder by pid + start time + boot id), taken without waiting. A lock whose holder died
 * (SIGKILL mid-download) is taken over by the next process that wants the page, so a killed
 * process never blocks a page; a live holder means "wait for its page instead".
 */
import { isVlstoreError } from "../../../errors.js";
import { FileLock } from "../lock.js";

/** The lock of the page at `pagePath`, or undefined when a live process (maybe this one) holds it. */
export async function tryLockPage(pagePath: string): Promise<FileLock | undefined> {
  try {
    return await FileLock.acquire(pagePath);
  } catch (e) {
    if (isVlstoreError(e, "Locked")) return undefined;
    throw e;
  }
}
