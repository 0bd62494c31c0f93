/**
 * `@local/batch-emulator/internals`: parts of the emulator exported only for the package's own
 * white-box tests (test/), which check them faster and more precisely than a running emulator can
 * (the fair-share order of 800 queued units, the seeded fault streams, dead-lettering after 10
 * retries without EventBridge's backoff). Not an API: nothing outside packages/batch-emulator may
 * import it (test/unit/local/emulator-boundary.test.ts checks that).
 */
export { EventDelivery } from "./event-delivery.js";
export { FairShareScheduler } from "./fair-share.js";
export { Faults, normalizeFaults } from "./faults.js";
export { PriorityScheduler } from "./scheduler.js";
export { Stats } from "./stats.js";
export type { JobRecord, Unit } from "./types.js";
