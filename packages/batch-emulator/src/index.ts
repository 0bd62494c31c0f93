export { startBatchEmulator } from "./emulator.js";
export { FAULTS_ENV, type FaultOptions } from "./faults.js";
export { logFileForStream } from "./paths.js";
export type { BatchEmulator, BatchEmulatorOptions, BatchJobDetail, BatchStateChangeEvent } from "./types.js";
