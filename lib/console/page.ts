import { CONSOLE_SCRIPT } from "./assets.generated.js";

/** `</script` inside the inlined script would end the element early. */
const inlineSafe = (script: string) => script.replace(/<\/(script)/gi, "<\\/$1");

let page: string | undefined;

/**
 * GET /api/v1/console: the whole console in one HTML page (script inlined, no CDN, no other asset),
 * so it works wherever the API does: behind the private API's endpoint, under any stage prefix, and
 * through the CLI's signing proxy. It reads data only through the public API routes.
 */
export function consolePage(): string {
  page ??= `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Job scheduler console</title>
<link rel="icon" href="data:,">
<style>body{margin:0;background:#f7f8fa}</style>
</head>
<body>
<js-console></js-console>
<noscript>The console needs JavaScript. The API itself is described at <a href="docs">docs</a>.</noscript>
<script type="module">${inlineSafe(CONSOLE_SCRIPT)}</script>
</body>
</html>
`;
  return page;
}
