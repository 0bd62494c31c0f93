import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import formats from "ajv-formats";

/** The served OpenAPI document, as far as the contract check reads it. */
export interface OpenApiDocument {
  servers?: { url: string }[];
  paths: Record<
    string,
    Record<string, { responses?: Record<string, { content?: Record<string, unknown> }> }>
  >;
}

// ajv-formats is CommonJS: under NodeNext its default export arrives as the module object.
const addFormats = ((formats as unknown as { default?: unknown }).default ?? formats) as (
  ajv: Ajv2020,
) => void;

const pointer = (...parts: string[]) =>
  parts.map((part) => part.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

/**
 * Checks real answers against the served OpenAPI document: the route's operation must document the
 * status code, and a JSON body must validate against that response's schema. Every integration test's
 * calls go through it (harness.ts), so the document is checked against everything the tests produce.
 */
export class ContractCheck {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly routes: { template: string; regex: RegExp; params: number }[];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly document: OpenApiDocument) {
    addFormats(this.ajv);
    this.ajv.addSchema(document, "openapi.json");
    this.routes = Object.keys(document.paths)
      .map((template) => ({
        template,
        regex: new RegExp(`^/api/v1${template.replace(/\{[^}]+\}/g, "[^/]+")}$`),
        params: (template.match(/\{/g) ?? []).length,
      }))
      // A literal segment wins over a parameter: /jobs/stop before /jobs/{jobName}.
      .sort((a, b) => a.params - b.params);
  }

  /** Problems with one answer; empty when it matches the document (or the route is not one of the API's). */
  check(method: string, url: string, status: number, body: unknown, contentType: string | null): string[] {
    const path = new URL(url, "http://local").pathname;
    const route = this.routes.find((candidate) => candidate.regex.test(path));
    const operation = route && this.document.paths[route.template]?.[method.toLowerCase()];
    if (!route || !operation) return [];
    const response = operation.responses?.[String(status)];
    if (!response)
      return [`${method} ${route.template} answered ${status}, which the document does not list`];
    if (!contentType?.includes("application/json")) return [];
    const key = `${route.template} ${method} ${status}`;
    let validate = this.validators.get(key);
    if (!validate) {
      const ref = `openapi.json#/${pointer("paths", route.template, method.toLowerCase(), "responses", String(status), "content", "application/json", "schema")}`;
      validate = this.ajv.getSchema(ref);
      if (!validate) return [`${method} ${route.template} ${status} has no JSON schema in the document`];
      this.validators.set(key, validate);
    }
    if (validate(body)) return [];
    return [
      `${method} ${path} → ${status} does not match the document: ${JSON.stringify(validate.errors?.slice(0, 3))}`,
    ];
  }
}
