/**
 * DynamoDB's expression limits, which the emulators do not enforce and AWS does (a request past them is
 * refused with a ValidationException, whatever the data): "The maximum length of any expression string
 * is 4 KB", "The maximum length of any single expression attribute name or expression attribute value
 * is 255 bytes", "The maximum number of operators or functions allowed in an UpdateExpression is 300"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html, "Expression
 * parameters"). The local stack checks every request against them, so that a request AWS would refuse
 * fails here too, in `npm start` and in every test.
 */
export const EXPRESSION_MAX_BYTES = 4096;
export const PLACEHOLDER_MAX_BYTES = 255;
export const EXPRESSION_MAX_OPERATORS = 300;

const EXPRESSIONS = [
  "UpdateExpression",
  "ConditionExpression",
  "KeyConditionExpression",
  "FilterExpression",
  "ProjectionExpression",
] as const;

/**
 * Operators and functions as DynamoDB counts them: functions, comparators, logical operators and the
 * `+`/`-` of update arithmetic (an update's `=` assigns, it is not counted), and BETWEEN/IN.
 */
const OPERATOR =
  /\b(?:attribute_exists|attribute_not_exists|attribute_type|begins_with|contains|size|if_not_exists|list_append)\s*\(|<>|<=|>=|<|>|\bAND\b|\bOR\b|\bNOT\b|\bBETWEEN\b|\bIN\b|[+-]/gi;

export function operatorCount(expression: string, kind: (typeof EXPRESSIONS)[number]): number {
  const operators = expression.match(OPERATOR)?.length ?? 0;
  // In a condition `a = :b` compares; in an update `SET a = :b` assigns.
  const equals = kind === "UpdateExpression" ? 0 : (expression.match(/(?<![<>])=/g)?.length ?? 0);
  return operators + equals;
}

const bytes = (text: string) => Buffer.byteLength(text, "utf8");

/** What in a request's input AWS would refuse for its expressions; undefined when nothing. */
export function expressionLimitViolation(input: Record<string, unknown>): string | undefined {
  for (const kind of EXPRESSIONS) {
    const expression = input[kind];
    if (typeof expression !== "string") continue;
    if (bytes(expression) > EXPRESSION_MAX_BYTES)
      return `Invalid ${kind}: Expression size has exceeded the maximum allowed size; size: ${bytes(expression)}, limit: ${EXPRESSION_MAX_BYTES}`;
    const operators = operatorCount(expression, kind);
    if (operators > EXPRESSION_MAX_OPERATORS)
      return `Invalid ${kind}: The expression contains too many operators; operator count: ${operators}, limit: ${EXPRESSION_MAX_OPERATORS}`;
  }
  for (const map of ["ExpressionAttributeNames", "ExpressionAttributeValues"]) {
    const placeholders = input[map];
    if (!placeholders || typeof placeholders !== "object") continue;
    for (const [key, value] of Object.entries(placeholders)) {
      if (bytes(key) > PLACEHOLDER_MAX_BYTES)
        return `${map}: a placeholder is longer than ${PLACEHOLDER_MAX_BYTES} bytes`;
      if (
        map === "ExpressionAttributeNames" &&
        typeof value === "string" &&
        bytes(value) > PLACEHOLDER_MAX_BYTES
      )
        return `${map}: an attribute name is longer than ${PLACEHOLDER_MAX_BYTES} bytes`;
    }
  }
  return undefined;
}

/**
 * A BatchGetItem or BatchWriteItem naming one item twice, which AWS refuses ("Provided list of item keys
 * contains duplicates") and the emulators may not. Keys are the table's `pk` and `sk`.
 */
export function duplicateKeyViolation(input: Record<string, unknown>): string | undefined {
  const requests = input.RequestItems;
  if (!requests || typeof requests !== "object") return undefined;
  for (const request of Object.values(requests as Record<string, unknown>)) {
    const keys = Array.isArray(request)
      ? request.map((write: { PutRequest?: { Item?: Item }; DeleteRequest?: { Key?: Item } }) =>
          keyOf(write.PutRequest?.Item ?? write.DeleteRequest?.Key),
        )
      : ((request as { Keys?: Item[] }).Keys ?? []).map(keyOf);
    if (new Set(keys).size !== keys.length) return "Provided list of item keys contains duplicates";
  }
  return undefined;
}

type Item = Record<string, unknown>;
const keyOf = (item: Item | undefined) => JSON.stringify([item?.pk, item?.sk]);

/** A client whose middleware stack can take one more step (any AWS SDK v3 client). */
interface Guardable {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: Record<string, unknown> }) => Promise<unknown>,
      ) => (args: { input: Record<string, unknown> }) => Promise<unknown>,
      options: { step: "initialize"; name: string },
    ): void;
  };
}

/** Makes a DynamoDB client refuse, as AWS does, a request past the expression limits or naming an item twice. */
export function enforceExpressionLimits(client: unknown): void {
  (client as Guardable).middlewareStack.add(
    (next) => async (args) => {
      const violation = expressionLimitViolation(args.input) ?? duplicateKeyViolation(args.input);
      if (violation) {
        throw Object.assign(new Error(violation), {
          name: "ValidationException",
          $fault: "client",
          $metadata: { httpStatusCode: 400 },
        });
      }
      return next(args);
    },
    { step: "initialize", name: "dynamoExpressionLimits" },
  );
}
