import type { APIGatewayProxyEvent } from "aws-lambda";
import { UnauthorizedError } from "../api/errors.js";

/** How callers are identified (RuntimeConfig `auth`). */
export interface AuthSettings {
  /**
   * Bearer token → principal. Set for the local stack (and tests); in AWS the principal is the IAM
   * identity API Gateway verified (aws.api.iamAuth), and no tokens are configured.
   */
  tokens?: Record<string, string>;
}

/**
 * The caller's principal: the IAM user or role ARN API Gateway authenticated with SigV4, else the
 * principal of a configured bearer token. With tokens configured a request without a known one is a
 * 401; without tokens and without IAM the caller is anonymous (undefined).
 */
export function principalOf(event: APIGatewayProxyEvent, auth: AuthSettings | undefined): string | undefined {
  const identity = event.requestContext?.identity;
  const iam = identity?.userArn ?? undefined;
  if (iam) return iam;
  const tokens = auth?.tokens;
  if (!tokens || Object.keys(tokens).length === 0) return undefined;
  const header = Object.entries(event.headers ?? {}).find(
    ([name]) => name.toLowerCase() === "authorization",
  )?.[1];
  const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) throw new UnauthorizedError("an Authorization: Bearer <token> header is required");
  const principal = Object.hasOwn(tokens, token) ? tokens[token] : undefined;
  if (!principal) throw new UnauthorizedError("the bearer token is not known");
  return principal;
}
