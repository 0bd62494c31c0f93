import { RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { allow } from "./allow.js";

/** Index names and key attributes of lib/store/dynamo-job-store.ts (and lib/local's `ensureTable`). */
export const TABLE_KEYS = {
  partitionKey: "pk",
  sortKey: "sk",
  ttl: "ttl",
  /** Listing by component and kind, newest first. */
  listing: { indexName: "gsi1", partitionKey: "gsi1pk", sortKey: "gsi1sk" },
  /** Sparse index of unfinished batches, walked by the reconciler instead of a scan. */
  active: { indexName: "gsi2", partitionKey: "gsi2pk", sortKey: "gsi2sk" },
} as const;

const READ_ACTIONS = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"];
const WRITE_ACTIONS = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:ConditionCheckItem",
];

export interface JobStateTableProps {
  /**
   * What happens to the table when it leaves the stack. The table is the only state of the scheduler.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The scheduler's only state (DESIGN.md "State and events"): batches, job shards, submissions and
 * idempotency records in one table, keys `pk`/`sk`. On-demand capacity absorbs bursts of Batch events;
 * point-in-time recovery; records expire through the `ttl` attribute (epoch seconds).
 */
export class JobStateTable extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: JobStateTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, "Table", {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE_KEYS.ttl,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_KEYS.listing.indexName,
      partitionKey: { name: TABLE_KEYS.listing.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.listing.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_KEYS.active.indexName,
      partitionKey: { name: TABLE_KEYS.active.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.active.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
  }

  public get tableName(): string {
    return this.table.tableName;
  }

  /** Item reads and index queries; no Scan (every read is a key or index lookup by design). */
  public grantRead(grantee: iam.IGrantable): void {
    allow(grantee, { actions: READ_ACTIONS, resources: this.resourceArns() });
  }

  /** Reads plus single-item conditional writes and batch writes; no Scan, no transactions. */
  public grantReadWrite(grantee: iam.IGrantable): void {
    this.grantRead(grantee);
    allow(grantee, { actions: WRITE_ACTIONS, resources: [this.table.tableArn] });
  }

  /** The table and each index by name (no `index/*`). */
  private resourceArns(): string[] {
    const arn = this.table.tableArn;
    return [
      arn,
      `${arn}/index/${TABLE_KEYS.listing.indexName}`,
      `${arn}/index/${TABLE_KEYS.active.indexName}`,
    ];
  }
}
