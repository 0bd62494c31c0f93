/**
 * Port: runs a creation at most once per caller key. A repeat with the same key and body gets the first
 * result; the same key with another body is a conflict; a repeat while the first still runs waits for it.
 */
export interface IdempotencyGuard {
  once(scope: string, key: string, body: unknown, create: () => Promise<string>): Promise<string>;
}

/** The `Idempotency-Key` header: 1–255 printable characters (as the IETF draft and Stripe use it). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
