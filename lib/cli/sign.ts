import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";

/** What the client sends: the signer adds the SigV4 headers to `headers`. */
export interface OutgoingRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

export type RequestSigner = (request: OutgoingRequest) => Promise<Record<string, string>>;

/** The region in an execute-api host name: `{api}.execute-api.{region}.amazonaws.com` or a VPC endpoint's. */
export function regionOfHost(hostname: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.(?:vpce\.)?amazonaws\.com$/.exec(hostname)?.[1];
}

export interface SignerOptions {
  region: string;
  credentials: ConstructorParameters<typeof SignatureV4>[0]["credentials"];
  /** API Gateway's signing name (IAM authorization of a REST API): `execute-api`. */
  service?: string;
  /** Fixed signing time (test vectors); default now. */
  signingDate?: Date;
}

/**
 * Signs requests with AWS Signature Version 4 (the SDK's own signer, @smithy/signature-v4), as API
 * Gateway's IAM authorization (`aws.api.iamAuth: true`) requires: service `execute-api`, the API's
 * region, headers `host` and `x-amz-date` (and `x-amz-security-token` for temporary credentials).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-control-access-using-iam-policies-to-invoke-api.html
 */
export function sigV4Signer(options: SignerOptions): RequestSigner {
  const signer = new SignatureV4({
    service: options.service ?? "execute-api",
    region: options.region,
    credentials: options.credentials,
    sha256: Hash.bind(null, "sha256"),
    // API Gateway does not need x-amz-content-sha256 (an S3 header); the payload hash is signed anyway.
    applyChecksum: false,
  });
  return async (request) => {
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of request.url.searchParams) {
      const seen = query[name];
      query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    }
    const signed = await signer.sign(
      {
        method: request.method,
        protocol: request.url.protocol,
        hostname: request.url.hostname,
        ...(request.url.port ? { port: Number(request.url.port) } : {}),
        path: request.url.pathname,
        query,
        headers: { ...request.headers, host: request.url.host },
        body: request.body,
      },
      options.signingDate ? { signingDate: options.signingDate } : {},
    );
    return signed.headers as Record<string, string>;
  };
}

/**
 * The standard AWS credential chain (environment, SSO, shared config and credentials files with
 * AWS_PROFILE or `profile`, credential process, web identity, ECS and EC2 instance roles).
 */
export const credentialChain = (profile?: string) => fromNodeProviderChain(profile ? { profile } : {});
