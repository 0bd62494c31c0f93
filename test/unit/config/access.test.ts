import { describe, expect, it } from "vitest";
import { loadConfigFile } from "#lib/config/load.js";
import { buildRuntimeConfig, bundledRuntimeConfig } from "#lib/config/runtime.js";
import { deploymentConfigSchema } from "#lib/config/schema.js";
import { firstForbidden, mayAct, principalMatches } from "#lib/domain/access.js";

describe("project access rules", () => {
  const sample = loadConfigFile("radixconfig.yaml");
  const config = deploymentConfigSchema.parse({
    ...sample,
    projects: [
      { name: "team-a", weight: 2, submit: ["arn:aws:iam::123456789012:role/team-a-*"], stop: ["ops"] },
      { name: "team-b" },
    ],
    auth: { localTokens: { "secret-token-1": "alice" } },
  });

  it("reach the functions in their bundled settings; local tokens never do", () => {
    const runtime = buildRuntimeConfig(config);
    expect(runtime.access).toEqual([
      { name: "team-a", submit: ["arn:aws:iam::123456789012:role/team-a-*"], stop: ["ops"] },
    ]);
    expect(JSON.stringify(runtime)).not.toContain("secret-token-1");
    expect(bundledRuntimeConfig(config)).not.toContain("secret-token-1");
  });

  it("match principals by glob, and fall back from stop to submit", () => {
    expect(principalMatches("arn:aws:iam::1:role/team-a-*", "arn:aws:iam::1:role/team-a-ci")).toBe(true);
    expect(principalMatches("arn:aws:iam::1:role/team-a-*", "arn:aws:iam::1:role/team-b-ci")).toBe(false);
    expect(principalMatches("a.b", "axb")).toBe(false);
    const access = [
      { name: "p", submit: ["alice"] },
      { name: "q", submit: ["alice"], stop: ["ops"] },
    ];
    expect(mayAct(access, "p", "alice", "stop")).toBe(true);
    expect(mayAct(access, "q", "alice", "stop")).toBe(false);
    expect(mayAct(access, "q", "ops", "stop")).toBe(true);
    expect(mayAct(access, "p", undefined, "submit")).toBe(false);
    expect(mayAct(access, "open", undefined, "submit")).toBe(true);
    expect(firstForbidden(access, ["open", "q"], "bob", "submit")).toBe("q");
  });
});
