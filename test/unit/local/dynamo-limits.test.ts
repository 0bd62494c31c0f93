import { describe, expect, it } from "vitest";
import { duplicateKeyViolation, expressionLimitViolation, operatorCount } from "#lib/local/dynamo-limits.js";

describe("DynamoDB's expression limits, as the local stack enforces them", () => {
  it("counts operators and functions as DynamoDB does: an update's = assigns, a condition's = compares", () => {
    expect(operatorCount("SET a = :val1 + :val2 + :val3", "UpdateExpression")).toBe(2);
    expect(
      operatorCount("attribute_exists(pk) AND (attribute_not_exists(#k) OR #k < :c)", "ConditionExpression"),
    ).toBe(5);
    expect(operatorCount("v = :v", "ConditionExpression")).toBe(1);
    expect(operatorCount("SET tStart = if_not_exists(tStart, :start)", "UpdateExpression")).toBe(1);
    expect(operatorCount("pk = :pk AND sk BETWEEN :from AND :to", "KeyConditionExpression")).toBe(4);
  });

  it("refuses an expression past 4 KB or 300 operators, and a placeholder past 255 bytes", () => {
    const conditions = (n: number) =>
      Array.from({ length: n }, (_, i) => `(attribute_not_exists(#k${i}) OR #k${i} < :c${i})`).join(" AND ");
    expect(expressionLimitViolation({ ConditionExpression: conditions(40) })).toBeUndefined();
    expect(expressionLimitViolation({ ConditionExpression: conditions(100) })).toMatch(
      /maximum allowed size/,
    );
    expect(expressionLimitViolation({ ConditionExpression: `${"a < :a OR ".repeat(200)}a < :a` })).toMatch(
      /too many operators/,
    );
    expect(expressionLimitViolation({ ExpressionAttributeNames: { [`#${"n".repeat(255)}`]: "n" } })).toMatch(
      /longer than 255 bytes/,
    );
  });

  it("refuses a batch read or write that names one item twice", () => {
    const key = (sk: string) => ({ pk: "B#x", sk });
    expect(
      duplicateKeyViolation({ RequestItems: { jobs: { Keys: [key("I"), key("J00")] } } }),
    ).toBeUndefined();
    expect(duplicateKeyViolation({ RequestItems: { jobs: { Keys: [key("I"), key("I")] } } })).toMatch(
      /duplicates/,
    );
    expect(
      duplicateKeyViolation({
        RequestItems: {
          jobs: [{ PutRequest: { Item: { ...key("R"), a: 1 } } }, { DeleteRequest: { Key: key("R") } }],
        },
      }),
    ).toMatch(/duplicates/);
  });
});
