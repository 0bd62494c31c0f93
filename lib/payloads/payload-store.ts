import { PAYLOAD_INDEX_RECORD_BYTES } from "../batch/job-definition.js";
import { componentOfBatch } from "../domain/names.js";

/** Port: where payloads live. A batch's payloads are one object (index + data), written once. */
export interface PayloadStore {
  /** Stores the payloads of a batch in ordinal order; returns the object key. */
  putBatchPayloads(batchName: string, payloads: readonly (string | undefined)[]): Promise<string>;
  /** The payload of one job (for reuse checks and debugging); undefined when the object is gone. */
  getPayload(key: string, ordinal: number): Promise<Buffer | undefined>;
  deletePayloads(key: string): Promise<void>;
  readonly bucket: string;
}

/**
 * `payloads/<component>/<batch>`: each component's job role reads only its own prefix (cdk/constructs/
 * job-definitions.ts), and a prefix cannot stand for "this component's batches" in a flat layout, as one
 * component's name may start another's. Keys are stored on the batch record, so older keys stay valid.
 */
export const payloadKeyFor = (batchName: string) =>
  `payloads/${componentOfBatch(batchName) ?? "unknown"}/${batchName}`;

/**
 * Packs payloads into one buffer: an index of fixed-width records (see lib/batch/job-definition.ts),
 * one per job in ordinal order, then the payload bytes. Offsets are absolute within the object, so
 * the fetch program reads record `i` and then exactly job `i`'s bytes with two ranged GETs.
 */
export function packPayloads(payloads: readonly (string | undefined)[]): Buffer {
  const data = payloads.map((payload) => Buffer.from(payload ?? "", "utf8"));
  const indexBytes = payloads.length * PAYLOAD_INDEX_RECORD_BYTES;
  const dataBytes = data.reduce((total, bytes) => total + bytes.length, 0);
  const buffer = Buffer.alloc(indexBytes + dataBytes);
  let offset = indexBytes;
  data.forEach((bytes, ordinal) => {
    const record = `${String(offset).padStart(15, " ")} ${String(bytes.length).padStart(7, " ")}\n`;
    buffer.write(record, ordinal * PAYLOAD_INDEX_RECORD_BYTES, "latin1");
    bytes.copy(buffer, offset);
    offset += bytes.length;
  });
  return buffer;
}

/** Reads one index record: the byte range of job `ordinal`'s payload. */
export function parseIndexRecord(record: Buffer | string): { offset: number; length: number } {
  const [offset, length] = record.toString().trim().split(/\s+/).map(Number);
  return { offset: offset ?? 0, length: length ?? 0 };
}
