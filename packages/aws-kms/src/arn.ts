/**
 * KMS key identifiers: key ARN, key id, alias name, alias ARN.
 * @module
 */

/**
 * A parsed `arn:<partition>:kms:<region>:<account>:<key|alias>/<id>`.
 * @internal Not part of the public API (exported for this repository's own code and tests).
 */
export interface KmsArn {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly resourceType: 'key' | 'alias';
  /** The key id (`1234abcd-…`, `mrk-…`) or the alias name without `alias/`. */
  readonly resourceId: string;
}

const ARN_PATTERN = /^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/;

/**
 * Parse a KMS ARN; `undefined` when `value` is not one.
 * @internal Not part of the public API (exported for this repository's own code and tests).
 */
export function parseKmsArn(value: string): KmsArn | undefined {
  const m = ARN_PATTERN.exec(value);
  if (!m) return undefined;
  return { partition: m[1]!, region: m[2]!, accountId: m[3]!, resourceType: m[4] as 'key' | 'alias', resourceId: m[5]! };
}

/** True for a key ARN (what KMS reports in every response `KeyId`). */
export function isKeyArn(value: string): boolean {
  return parseKmsArn(value)?.resourceType === 'key';
}

/** What a configured identifier is. */
export type KeyIdentifierKind = 'key-arn' | 'alias-arn' | 'alias-name' | 'key-id';

/** Classify a configured identifier; `undefined` when it is none of the forms KMS accepts. */
export function identifierKind(value: string): KeyIdentifierKind | undefined {
  const arn = parseKmsArn(value);
  if (arn) return arn.resourceType === 'key' ? 'key-arn' : 'alias-arn';
  if (value.startsWith('arn:')) return undefined;
  if (/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(value)) return 'alias-name';
  if (/^(mrk-)?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$|^mrk-[0-9a-f]{32}$/.test(value)) return 'key-id';
  return undefined;
}

/** The region named by an ARN identifier, if any (aliases and key ids use the client's region). */
export function regionOf(identifier: string): string | undefined {
  return parseKmsArn(identifier)?.region;
}
