import type { APIGatewayProxyEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { UnauthorizedError } from "#lib/api/errors.js";
import { principalOf } from "#lib/http/principal.js";

const event = (headers: Record<string, string>, userArn?: string) =>
  ({ headers, requestContext: { identity: { userArn } } }) as unknown as APIGatewayProxyEvent;

describe("the caller's principal", () => {
  it("is the IAM identity API Gateway verified (aws.api.iamAuth), whatever tokens say", () => {
    const arn = "arn:aws:sts::123456789012:assumed-role/team-a-ci/session";
    expect(principalOf(event({}, arn), undefined)).toBe(arn);
    expect(principalOf(event({ authorization: "Bearer x" }, arn), { tokens: { x12345678: "bob" } })).toBe(
      arn,
    );
  });

  it("is the principal of a configured bearer token; without tokens the caller is anonymous", () => {
    const auth = { tokens: { "token-alice": "alice" } };
    expect(principalOf(event({ Authorization: "Bearer token-alice" }), auth)).toBe("alice");
    expect(principalOf(event({}), undefined)).toBeUndefined();
    expect(() => principalOf(event({}), auth)).toThrow(UnauthorizedError);
    expect(() => principalOf(event({ authorization: "Bearer nope" }), auth)).toThrow(UnauthorizedError);
    expect(() => principalOf(event({ authorization: "Basic dG9rZW4=" }), auth)).toThrow(UnauthorizedError);
    expect(() => principalOf(event({ authorization: "Bearer constructor" }), auth)).toThrow(
      UnauthorizedError,
    );
  });
});
