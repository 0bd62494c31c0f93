export { startBatchEmulator } from "./emulator.js";
export { logFileForStream } from "./paths.js";
export type { BatchEmulator, BatchEmulatorOptions, BatchJobDetail, BatchStateChangeEvent } from "./types.js";
