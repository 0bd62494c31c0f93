import { mkdirSync, writeFileSync } from "node:fs";
import * as z from "zod";
import { openApiDocument } from "../http/routes.js";
import { batchStatusChangeSchema, jobStatusChangeSchema } from "../notify/product-events.js";

/**
 * `npm run openapi`: writes the OpenAPI document to openapi.json and the JSON schema of the product
 * events' detail to docs/events/ — both generated from the zod schemas, never edited by hand.
 */
export function productEventSchemas() {
  return {
    "job-status-change.schema.json": z.toJSONSchema(jobStatusChangeSchema, { target: "draft-2020-12" }),
    "batch-status-change.schema.json": z.toJSONSchema(batchStatusChangeSchema, { target: "draft-2020-12" }),
  };
}

if (process.argv[1]?.endsWith("write-openapi.ts")) {
  const file = process.argv[2] ?? "openapi.json";
  writeFileSync(file, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
  mkdirSync("docs/events", { recursive: true });
  for (const [name, schema] of Object.entries(productEventSchemas())) {
    writeFileSync(`docs/events/${name}`, `${JSON.stringify(schema, null, 2)}\n`);
  }
  console.log(`wrote ${file} and docs/events/`);
}
