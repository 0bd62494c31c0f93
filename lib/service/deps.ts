import type { Logger } from "@aws-lambda-powertools/logger";
import type { BatchGateway } from "../batch/gateway.js";
import type { ComponentSettings, RuntimeConfig } from "../config/runtime.js";
import type { AuthSettings } from "../http/principal.js";
import type { IdempotencyGuard } from "../idempotency/idempotency.js";
import type { LogReader } from "../logs/log-reader.js";
import type { ProductEventPublisher } from "../notify/product-events.js";
import type { MetricsSink } from "../observability/metrics.js";
import type { PayloadStore } from "../payloads/payload-store.js";
import type { JobStore } from "../store/job-store.js";

/**
 * Everything the use cases need, passed in (ports and adapters); nothing is created at import time. Built
 * once by lib/wiring (AWS) or lib/local/stack.ts (the local stack, with its fault injection wrapped
 * around the ports at construction) and never changed afterwards: an invocation gets a copy with its own
 * logger and correlation id (lib/observability/correlation.ts).
 */
export interface ServiceDeps {
  readonly runtime: RuntimeConfig;
  readonly store: JobStore;
  readonly payloads: PayloadStore;
  readonly batch: BatchGateway;
  readonly logger: Logger;
  readonly now: () => number;
  /**
   * Hands a recorded batch to the background submitter (async Lambda invoke in AWS, in-process locally),
   * with the correlation id of the request that recorded it.
   */
  readonly submitInBackground: (
    component: string,
    batchName: string,
    correlationId?: string,
  ) => Promise<void>;
  /** Where the product events of status changes go (lib/notify); absent: none are published. */
  readonly events?: ProductEventPublisher;
  /**
   * The invocation's correlation id (lib/observability/correlation.ts): on its log lines (`logger` is
   * then the invocation's child logger) and in the product events of the changes it makes.
   */
  readonly correlationId?: string;
  /** Makes creation with an `Idempotency-Key` happen once. */
  readonly idempotency?: IdempotencyGuard;
  /**
   * How long a submitter owns a submission it started (its `submitting` intent): it starts no SubmitJob
   * attempt after that, and only then may the reconciler take the submission over. Default 60 s.
   */
  readonly submitLeaseMs?: number;
  /** Operational metrics (Powertools EMF in AWS); absent on the local stack. */
  readonly metrics?: MetricsSink;
  /** Reads job output (CloudWatch Logs in AWS, files locally). */
  readonly logs?: LogReader;
  /** A batch restart of more jobs than this is submitted in the background (default RESTART_SYNC_MAX). */
  readonly restartSyncMax?: number;
  /** How callers are identified beyond IAM (the local stack's static bearer tokens). */
  readonly auth?: AuthSettings;
  /** Local stack: the configured `local.command` of each component, playing the image's ENTRYPOINT. */
  readonly localEntrypoints?: Record<string, string[]>;
}

/**
 * The slices of {@link ServiceDeps} a use case declares (each includes the one before): what it reads,
 * what writing job state adds (publishing its product events, metrics), and what starting and ending
 * AWS Batch jobs adds. Only the HTTP edge and the handlers take all of ServiceDeps.
 */
export type ReadDeps = Pick<ServiceDeps, "runtime" | "store" | "now" | "logger">;
export type WriteDeps = ReadDeps & Pick<ServiceDeps, "events" | "metrics" | "correlationId">;
export type BatchDeps = WriteDeps &
  Pick<
    ServiceDeps,
    "batch" | "payloads" | "submitLeaseMs" | "localEntrypoints" | "submitInBackground" | "restartSyncMax"
  >;

export function componentSettings(deps: Pick<ServiceDeps, "runtime">, name: string): ComponentSettings {
  const component = deps.runtime.components.find((candidate) => candidate.name === name);
  if (!component) throw new Error(`job component ${name} is not configured`);
  return component;
}

export const DEFAULT_SUBMIT_LEASE_MS = 60_000;
/** Attempts stop this long before the lease ends, so an attempt in flight finishes inside it. */
export const leaseDeadline = (leaseUntil: number, leaseMs: number) =>
  leaseUntil - Math.min(5_000, leaseMs / 4);
