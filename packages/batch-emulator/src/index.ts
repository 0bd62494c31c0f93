/**
 * `@local/batch-emulator`: the package's one entry point (README.md). Everything else under src/ is
 * internal; `./internals` re-exports a few parts for the package's own tests only.
 */
export { startBatchEmulator } from "./emulator.js";
export { FAULTS_ENV, type FaultOptions } from "./faults.js";
export { logFileForStream } from "./paths.js";
export type { BatchEmulator, BatchEmulatorOptions, BatchJobDetail, BatchStateChangeEvent } from "./types.js";
