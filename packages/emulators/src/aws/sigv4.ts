/**
 * Signature Version 4 verification for incoming KMS requests.
 *
 * Written from the SigV4 specification rather than by re-running the SDK's signer, so the check is
 * independent of the code that produced the signature. Unlike a re-sign with the SDK's own signer
 * (which trusts `x-amz-content-sha256`), the payload hash is always recomputed from the body.
 * @module
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { KmsFault } from './errors.js';

/** A pair of static AWS credentials the emulator accepts. */
export interface AwsCredentialPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** What a verified request was signed with. */
export interface VerifiedSignature {
  readonly accessKeyId: string;
  /** The region of the credential scope: the regional endpoint the client meant to call. */
  readonly region: string;
}

/** How far a request's `x-amz-date` may be from the emulator's clock (AWS allows 5 minutes). */
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

const AUTH_PATTERN = /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : v;
}

/** SigV4 canonical URI: each path segment URI-encoded (non-S3 services encode twice). */
function canonicalUri(path: string): string {
  const encoded = path
    .split('/')
    .map((segment) => encodeRfc3986(encodeRfc3986(safeDecode(segment))))
    .join('/');
  return encoded === '' ? '/' : encoded;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => {
      const i = pair.indexOf('=');
      const k = i < 0 ? pair : pair.slice(0, i);
      const v = i < 0 ? '' : pair.slice(i + 1);
      return [encodeRfc3986(safeDecode(k)), encodeRfc3986(safeDecode(v))] as const;
    })
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/**
 * Verify the SigV4 signature of one request. Throws a {@link KmsFault} with the error real AWS
 * answers with: `MissingAuthenticationTokenException`, `IncompleteSignatureException`,
 * `UnrecognizedClientException` (unknown access key), `InvalidSignatureException` (wrong secret,
 * tampered request or body, expired signature, wrong service).
 *
 * @param request Method, raw URL, headers and body as received.
 * @param lookupSecret Returns the secret for an access key id, or `undefined` when unknown.
 * @param now The emulator's clock.
 */
export function verifySigV4(
  request: { method: string; url: string; headers: IncomingHttpHeaders; body: Uint8Array },
  lookupSecret: (accessKeyId: string) => string | undefined,
  now: Date = new Date(),
): VerifiedSignature {
  const authorization = headerValue(request.headers, 'authorization');
  if (authorization === undefined) throw new KmsFault('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const m = AUTH_PATTERN.exec(authorization.trim());
  if (!m) throw new KmsFault('IncompleteSignatureException', 'Authorization header requires Credential, SignedHeaders and Signature, signed with AWS4-HMAC-SHA256.');
  const [, accessKeyId, scopeDate, region, service, signedHeaderList, signature] = m as unknown as [string, string, string, string, string, string, string];

  const secret = lookupSecret(accessKeyId);
  if (secret === undefined) throw new KmsFault('UnrecognizedClientException', 'The security token included in the request is invalid.');
  if (service !== 'kms') throw new KmsFault('InvalidSignatureException', `Credential should be scoped to correct service: 'kms'.`);

  const amzDate = headerValue(request.headers, 'x-amz-date');
  const signingDate = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (amzDate === undefined || signingDate === undefined) throw new KmsFault('IncompleteSignatureException', 'Authorization header requires existence of either a \'X-Amz-Date\' or a \'Date\' header.');
  if (!amzDate.startsWith(scopeDate)) throw new KmsFault('InvalidSignatureException', 'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.');
  if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) {
    throw new KmsFault('InvalidSignatureException', `Signature expired: ${amzDate} is now earlier or later than the allowed skew of 5 minutes.`);
  }

  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host')) throw new KmsFault('InvalidSignatureException', "'Host' must be a signed header.");
  for (let i = 1; i < signedHeaders.length; i++) {
    if (signedHeaders[i - 1]! >= signedHeaders[i]!) throw new KmsFault('InvalidSignatureException', 'SignedHeaders must be sorted and unique.');
  }

  // The signer puts the payload hash in a header; it must describe the body actually received,
  // otherwise a body swapped in transit would verify.
  const bodyHash = sha256Hex(request.body);
  const declaredHash = headerValue(request.headers, 'x-amz-content-sha256');
  if (declaredHash !== undefined && declaredHash !== bodyHash) {
    throw new KmsFault('InvalidSignatureException', 'The provided x-amz-content-sha256 header does not match the computed hash of the request body.');
  }

  const canonicalHeaders = signedHeaders
    .map((name) => {
      const value = headerValue(request.headers, name);
      if (value === undefined) throw new KmsFault('InvalidSignatureException', `Signed header ${name} is missing from the request.`);
      return `${name}:${value.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const q = request.url.indexOf('?');
  const path = q < 0 ? request.url : request.url.slice(0, q);
  const query = q < 0 ? '' : request.url.slice(q + 1);
  const canonicalRequest = [request.method.toUpperCase(), canonicalUri(path), canonicalQuery(query), canonicalHeaders, signedHeaderList, bodyHash].join('\n');
  const scope = `${scopeDate}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');

  const kDate = hmac(`AWS4${secret}`, scopeDate);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  const kSigning = hmac(kService, 'aws4_request');
  const expected = createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest();
  const provided = Buffer.from(signature, 'hex');
  if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
    throw new KmsFault(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
  return { accessKeyId, region };
}
