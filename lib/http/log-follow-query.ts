import type { APIGatewayProxyEvent } from "aws-lambda";
import type { FollowQuery } from "../service/log-follow.js";
import { queryInteger } from "./parse.js";

/** Query of GET /jobs/{name}/logs/follow: cursor (from the previous answer), tail, attempt. */
export function followQueryOf(event: APIGatewayProxyEvent): FollowQuery {
  const cursor = event.queryStringParameters?.cursor ?? undefined;
  return {
    ...(cursor ? { cursor } : {}),
    tail: queryInteger(event, "tail", 0, 1_000_000),
    attempt: queryInteger(event, "attempt", 0, 10_000),
  };
}
