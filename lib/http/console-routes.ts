import type { APIGatewayProxyEvent } from "aws-lambda";
import { consolePage } from "../console/page.js";
import type { ServiceDeps } from "../service/deps.js";
import { followJobLogs } from "../service/log-follow.js";
import { followQueryOf } from "./log-follow-query.js";
import { pathParameter } from "./parse.js";
import { TextBody } from "./respond.js";

/** The console's page: static, carries no data, so it is public like the API's own docs page. */
export const CONSOLE_PATH = "/api/v1/console";

/** Routes for people: the web console, and the log follow mode the console and the CLI poll. */
export function consoleRoutes(component: string) {
  return [
    {
      method: "GET" as const,
      path: CONSOLE_PATH,
      run: async () => new TextBody(consolePage(), "text/html; charset=utf-8"),
    },
    {
      method: "GET" as const,
      path: "/api/v1/jobs/{jobName}/logs/follow",
      run: (event: APIGatewayProxyEvent, deps: ServiceDeps) =>
        followJobLogs(deps, component, pathParameter(event, "jobName"), followQueryOf(event)),
    },
  ];
}
