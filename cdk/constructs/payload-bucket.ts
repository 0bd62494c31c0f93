import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import type * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { allow } from "./allow.js";

/** Key prefix of every payload object (lib/payloads/payload-store.ts `payloadKeyFor`). */
export const PAYLOAD_PREFIX = "payloads/";

export type PayloadAccess = "read" | "write" | "delete";

const ACTIONS: Record<PayloadAccess, string> = {
  read: "s3:GetObject",
  write: "s3:PutObject",
  delete: "s3:DeleteObject",
};

export interface PayloadBucketProps {
  /**
   * Days after which payload objects expire. A record's DynamoDB TTL removes it after the component's
   * `retention.maxAgeDays`; its payload object goes one day later, so a record never outlives its payload.
   */
  readonly expirationDays: number;
  /**
   * What happens to the bucket when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Where payloads wait for their jobs (DESIGN.md "Mapping onto AWS"): one object per batch under
 * `payloads/`. Private (all public access blocked), TLS only, S3-managed encryption, no versioning
 * (an object is written once and deleted with its batch), expired by a lifecycle rule.
 */
export class PayloadBucket extends Construct {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: PayloadBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, "Bucket", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: "expire-payloads",
          prefix: PAYLOAD_PREFIX,
          expiration: Duration.days(props.expirationDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    Validations.of(this.bucket).acknowledge({
      id: "AwsSolutions-S1",
      reason:
        "Only this deployment's function and job roles can touch the objects (no public access, TLS only), " +
        "and every job reads its payload with ranged GETs, so access logs would add two log records per job " +
        "for no audit gain; CloudTrail S3 data events are the audit path where one is required.",
    });
  }

  public get bucketName(): string {
    return this.bucket.bucketName;
  }

  /**
   * Reading one job component's payloads, `payloads/<component>/` (lib/payloads/payload-store.ts): what
   * that component's job role needs, and nothing of the other components'.
   */
  public grantComponentPayloads(grantee: iam.IGrantable, component: string): void {
    const prefix = `${PAYLOAD_PREFIX}${component}/`;
    allow(grantee, {
      actions: [ACTIONS.read],
      resources: [this.bucket.arnForObjects(`${prefix}*`)],
      wildcardReason: `Payload object keys are per batch (${prefix}<batch name>), created at run time.`,
    });
    allow(grantee, {
      actions: ["s3:ListBucket"],
      resources: [this.bucket.bucketArn],
      conditions: { StringLike: { "s3:prefix": [`${prefix}*`] } },
    });
  }

  /**
   * Object access under `payloads/` only. Readers also get s3:ListBucket limited to that prefix, so a
   * missing object is a 404 (NoSuchKey, which lib/payloads handles) rather than a 403.
   */
  public grantPayloads(grantee: iam.IGrantable, ...access: PayloadAccess[]): void {
    allow(grantee, {
      actions: access.map((kind) => ACTIONS[kind]),
      resources: [this.bucket.arnForObjects(`${PAYLOAD_PREFIX}*`)],
      wildcardReason: `Payload object keys are per batch (${PAYLOAD_PREFIX}<batch name>), created at run time.`,
    });
    if (access.includes("read")) {
      allow(grantee, {
        actions: ["s3:ListBucket"],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { "s3:prefix": [`${PAYLOAD_PREFIX}*`] } },
      });
    }
  }
}
