import {
  DeleteObjectCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { PAYLOAD_INDEX_RECORD_BYTES } from "../batch/job-definition.js";
import { type PayloadStore, packPayloads, parseIndexRecord, payloadKeyFor } from "./payload-store.js";

export class S3PayloadStore implements PayloadStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
  ) {}

  async putBatchPayloads(batchName: string, payloads: readonly (string | undefined)[]) {
    const key = payloadKeyFor(batchName);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: packPayloads(payloads),
        ContentType: "application/octet-stream",
      }),
    );
    return key;
  }

  async getPayload(key: string, ordinal: number) {
    const record = await this.range(key, ordinal * PAYLOAD_INDEX_RECORD_BYTES, PAYLOAD_INDEX_RECORD_BYTES);
    if (!record) return undefined;
    const { offset, length } = parseIndexRecord(record);
    return length === 0 ? Buffer.alloc(0) : this.range(key, offset, length);
  }

  async deletePayloads(key: string) {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  private async range(key: string, start: number, length: number) {
    try {
      const result = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: `bytes=${start}-${start + length - 1}`,
        }),
      );
      return Buffer.from(await result.Body!.transformToByteArray());
    } catch (error) {
      if (error instanceof NoSuchKey || (error as Error).name === "NoSuchKey") return undefined;
      throw error;
    }
  }
}
