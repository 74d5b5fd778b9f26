/**
 * How many read operations each workload does. Cold samples are small on
 * purpose: a cold get is only cold until its page or block is cached, so the
 * sample must touch a minority of the store (about 10% of the frames, 0.1% of
 * the embeddings). Warm samples are large enough to run for a good fraction
 * of a second on the fastest store.
 */
import type { WorkloadName } from "./args.js";
import type { ReadPlan } from "./results.js";

export function readPlan(workload: WorkloadName, records: number, quick: boolean, seed: number): ReadPlan {
  const base: ReadPlan =
    workload !== "embeddings"
      ? {
          coldGets: 100,
          warmGets: 5000,
          batch: 64,
          coldBatches: 3,
          warmBatches: 100,
          repeats: 3,
          minWarmSeconds: 1,
          warmOpens: 5,
          seed,
        }
      : {
          coldGets: 200,
          warmGets: 100_000,
          batch: 64,
          coldBatches: 5,
          warmBatches: 1000,
          repeats: 3,
          minWarmSeconds: 1,
          warmOpens: 5,
          seed,
        };
  const plan = quick
    ? {
        ...base,
        warmGets: base.warmGets / 10,
        warmBatches: base.warmBatches / 10,
        repeats: 1,
        minWarmSeconds: 0.2,
        warmOpens: 3,
      }
    : base;
  return { ...plan, coldGets: Math.min(plan.coldGets, Math.max(1, Math.floor(records / 5))) };
}
