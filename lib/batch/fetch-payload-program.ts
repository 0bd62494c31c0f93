/**
 * The program the `fetch-payload` container runs (`node -e <program>` in a stock Node.js image), in AWS and
 * in the local stack alike. It reads the job's index record and then exactly the job's bytes from the packed
 * payload object with two ranged S3 GETs, and writes them to `$PAYLOAD_DIR/payload`.
 *
 * Why a program and not the aws-cli image: AWS Batch multi-container task properties have no entryPoint
 * override, and the aws-cli image's entrypoint is `aws`, so a two-step script cannot run there. Stock
 * Node.js images have `fetch` and `crypto`, which is all SigV4 for a GET needs; no image is built.
 *
 * Credentials: the ECS container credentials endpoint in AWS (the job role), or AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY in the environment (local stack). `AWS_ENDPOINT_URL_S3` switches to path-style
 * requests against that endpoint (the local S3 emulator).
 */
export const FETCH_PAYLOAD_PROGRAM = String.raw`
const crypto = require("node:crypto");
const fs = require("node:fs");
const e = process.env;
const RECORD = Number(e.PAYLOAD_RECORD_BYTES || 24);
const sha = (d) => crypto.createHash("sha256").update(d).digest("hex");
const hmac = (k, d) => crypto.createHmac("sha256", k).update(d).digest();
async function credentials() {
  if (e.AWS_ACCESS_KEY_ID) return { id: e.AWS_ACCESS_KEY_ID, secret: e.AWS_SECRET_ACCESS_KEY, token: e.AWS_SESSION_TOKEN };
  const url = e.AWS_CONTAINER_CREDENTIALS_FULL_URI || "http://169.254.170.2" + e.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
  const headers = e.AWS_CONTAINER_AUTHORIZATION_TOKEN ? { Authorization: e.AWS_CONTAINER_AUTHORIZATION_TOKEN } : {};
  const c = await (await fetch(url, { headers })).json();
  return { id: c.AccessKeyId, secret: c.SecretAccessKey, token: c.Token };
}
async function getRange(creds, key, from, to) {
  const region = e.AWS_REGION || e.AWS_DEFAULT_REGION || "us-east-1";
  const encodedKey = key.split("/").map(encodeURIComponent).join("/");
  const base = e.AWS_ENDPOINT_URL_S3
    ? new URL(e.AWS_ENDPOINT_URL_S3.replace(/\/$/, "") + "/" + e.PAYLOAD_BUCKET + "/" + encodedKey)
    : new URL("https://" + e.PAYLOAD_BUCKET + ".s3." + region + ".amazonaws.com/" + encodedKey);
  const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, "");
  const day = amzDate.slice(0, 8);
  const headers = { host: base.host, range: "bytes=" + from + "-" + to, "x-amz-content-sha256": sha(""), "x-amz-date": amzDate };
  if (creds.token) headers["x-amz-security-token"] = creds.token;
  const names = Object.keys(headers).sort();
  const canonical = ["GET", base.pathname, "", names.map((n) => n + ":" + headers[n] + "\n").join(""), names.join(";"), sha("")].join("\n");
  const scope = day + "/" + region + "/s3/aws4_request";
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha(canonical)].join("\n");
  const key4 = hmac(hmac(hmac(hmac("AWS4" + creds.secret, day), region), "s3"), "aws4_request");
  headers.authorization = "AWS4-HMAC-SHA256 Credential=" + creds.id + "/" + scope + ", SignedHeaders=" + names.join(";") + ", Signature=" + hmac(key4, toSign).toString("hex");
  delete headers.host;
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(base, { headers });
    if (res.ok) return Buffer.from(await res.arrayBuffer());
    if (attempt >= 5 || (res.status < 500 && res.status !== 429)) throw new Error("GET " + key + " failed: HTTP " + res.status);
    await new Promise((r) => setTimeout(r, 200 * 2 ** attempt * Math.random()));
  }
}
(async () => {
  const ordinal = Number(e.PAYLOAD_BASE || 0) + Number(e.AWS_BATCH_JOB_ARRAY_INDEX || 0);
  const creds = await credentials();
  const record = (await getRange(creds, e.PAYLOAD_INDEX_KEY, ordinal * RECORD, ordinal * RECORD + RECORD - 1)).toString("latin1");
  const [offset, length] = record.trim().split(/\s+/).map(Number);
  const dir = (e.BATCH_LOCAL_ROOT || "") + e.PAYLOAD_DIR;
  fs.mkdirSync(dir, { recursive: true });
  const bytes = length > 0 ? await getRange(creds, e.PAYLOAD_KEY, offset, offset + length - 1) : Buffer.alloc(0);
  if (bytes.length !== length) throw new Error("payload length mismatch");
  fs.writeFileSync(dir + "/payload", bytes);
})().catch((err) => { console.error("fetch-payload: " + err.message); process.exit(1); });
`;
