import { writeFileSync } from "node:fs";
import { buildOpenApiDocument } from "./openapi.js";

/** `npm run openapi`: writes the generated document to openapi.json. */
const file = process.argv[2] ?? "openapi.json";
writeFileSync(file, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
console.log(`wrote ${file}`);
