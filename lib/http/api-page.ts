/** A self-contained HTML page describing the API from its OpenAPI document (no CDN, works in a VPC). */
const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"]/g,
    (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[char] ?? char,
  );

interface Operation {
  summary?: string;
  operationId?: string;
  responses?: Record<string, { description?: string }>;
}

export function renderApiPage(document: {
  info: { title: string; description?: string };
  paths?: unknown;
  components?: unknown;
}) {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  const rows = Object.entries(paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(
      ([method, operation]) =>
        `<tr><td><code>${method.toUpperCase()}</code></td><td><code>/api/v1${escapeHtml(path)}</code></td><td>${escapeHtml(operation.summary ?? "")}</td><td>${Object.keys(operation.responses ?? {}).join(", ")}</td></tr>`,
    ),
  );
  const schemas = Object.entries(
    ((document.components ?? {}) as { schemas?: Record<string, unknown> }).schemas ?? {},
  ).map(
    ([name, schema]) =>
      `<h3 id="${escapeHtml(name)}">${escapeHtml(name)}</h3><pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre>`,
  );
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(document.info.title)}</title>
<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}td{padding:.2rem .6rem;border-bottom:1px solid #ddd}pre{background:#f6f6f6;padding:.6rem;overflow:auto}</style>
</head><body><h1>${escapeHtml(document.info.title)}</h1><p>${escapeHtml(document.info.description ?? "")}</p>
<p>Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1)</p>
<h2>Routes</h2><table><tr><th>Method</th><th>Path</th><th>What</th><th>Codes</th></tr>${rows.join("")}</table>
<h2>Models</h2>${schemas.join("")}</body></html>`;
}
