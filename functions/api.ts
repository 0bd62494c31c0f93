import { runtimeConfigFromEnv } from "../lib/config/runtime.js";
import { createApiHandler } from "../lib/http/app.js";
import { createServiceDeps } from "../lib/wiring/aws-deps.js";

/** API Gateway (REST, proxy) → the job-scheduler API of the job component named by COMPONENT. */
const component = process.env.COMPONENT;
if (!component) throw new Error("COMPONENT is not set");

export const handler = createApiHandler(createServiceDeps(runtimeConfigFromEnv()), component);
