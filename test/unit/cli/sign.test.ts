import { describe, expect, it } from "vitest";
import { regionOfHost, sigV4Signer } from "#lib/cli/sign.js";

/**
 * AWS's Signature Version 4 test suite (get-vanilla, get-vanilla-query-order-key-case, post-vanilla):
 * https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html — fixed credentials,
 * region us-east-1, service "service", time 20150830T123600Z, host example.amazonaws.com.
 */
const SUITE = {
  region: "us-east-1",
  service: "service",
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
  signingDate: new Date("2015-08-30T12:36:00Z"),
};
const SCOPE = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

describe("the CLI's SigV4 signing (--iam)", () => {
  it("reproduces the get-vanilla vector of AWS's test suite", async () => {
    const headers = await sigV4Signer(SUITE)({
      method: "GET",
      url: new URL("https://example.amazonaws.com/"),
      headers: {},
    });
    expect(headers["x-amz-date"]).toBe("20150830T123600Z");
    expect(headers.authorization).toBe(
      `${SCOPE}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
    );
  });

  it("orders query parameters as the suite's get-vanilla-query-order-key-case requires", async () => {
    const headers = await sigV4Signer(SUITE)({
      method: "GET",
      url: new URL("https://example.amazonaws.com/?Param2=value2&Param1=value1"),
      headers: {},
    });
    expect(headers.authorization).toBe(
      `${SCOPE}, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500`,
    );
  });

  it("reproduces post-vanilla", async () => {
    const headers = await sigV4Signer(SUITE)({
      method: "POST",
      url: new URL("https://example.amazonaws.com/"),
      headers: {},
    });
    expect(headers.authorization).toBe(
      `${SCOPE}, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b`,
    );
  });

  it("signs for execute-api by default and signs the session token of temporary credentials", async () => {
    const headers = await sigV4Signer({
      region: "eu-west-1",
      credentials: { ...SUITE.credentials, sessionToken: "session-token" },
      signingDate: SUITE.signingDate,
    })({
      method: "GET",
      url: new URL("https://abc123.execute-api.eu-west-1.amazonaws.com/prod/api/v1/jobs"),
      headers: {},
    });
    expect(headers.authorization).toContain("/20150830/eu-west-1/execute-api/aws4_request");
    expect(headers.authorization).toContain("SignedHeaders=host;x-amz-date;x-amz-security-token");
    expect(headers["x-amz-security-token"]).toBe("session-token");
  });

  it("finds the region in execute-api host names, also a VPC endpoint's", () => {
    expect(regionOfHost("abc123.execute-api.eu-north-1.amazonaws.com")).toBe("eu-north-1");
    expect(regionOfHost("vpce-0a1b-2c3d.execute-api.us-east-2.vpce.amazonaws.com")).toBe("us-east-2");
    expect(regionOfHost("127.0.0.1")).toBeUndefined();
  });
});
