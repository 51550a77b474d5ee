/**
 * fieldseal core: field-level envelope encryption for JSON documents.
 *
 * `encrypt` / `decrypt` / `inspect` / `rewrap` / `reencrypt` over format v1, the `Keyring`
 * contract with `LocalKeyring` and `MultiKeyring`, typed errors with stable codes. Runs on Node
 * (node:crypto) and in browsers (WebCrypto) with byte-identical output.
 * @module
 */
export * from './errors.js';
export type * from './types.js';
export { encrypt, type EncryptOptions, type KeyGroup } from './encrypt.js';
export { decrypt, type DecryptOptions } from './decrypt.js';
export { inspect, CURRENT_SUITE_ID, type InspectOptions, type InspectResult, type InspectedGroup, type InspectedWrappedKey } from './inspect.js';
export { encodeContext } from './lib/context.js';
export { describeSelector, type SelectorSegment, type SelectorStep } from './describe-selector.js';
export { DEFAULT_LIMITS } from './lib/limits.js';
export { LocalKeyring, LOCAL_PROVIDER, type LocalKeyFile, type LocalKeyFileEntry } from './keyrings/local.js';
export { MultiKeyring } from './keyrings/multi.js';
export { callWithRetries, resolveRetryPolicy, DEFAULT_RETRY_POLICY, MAX_SERVICE_UNWRAPS_PER_KEY, type RetryPolicy, type ResolvedRetryPolicy, type RetryingCall } from './keyrings/call-with-retries.js';
export { dataKeyToWrap, importRsaOaepPublicKey, rsaOaepPublicKeyEncrypt, spkiFromPem, wrapWithRsaOaepPublicKey } from './keyrings/rsa-oaep-public-key.js';
export { RsaKeyring, type RsaKeyInput, type RsaPublicKeyringOptions, type RsaPrivateKeyringOptions, type RsaGenerateOptions } from './keyrings/rsa.js';
export { rewrap, type RewrapOptions, type RotationResult } from './rewrap.js';
export { reencrypt, type ReencryptOptions } from './reencrypt.js';
export { needsRotation, keyVersionOf, type RotationTarget } from './needs-rotation.js';
export * from './beacons/index.js';
export { CachingKeyring, type CachingKeyringOptions, type CachingKeyringEncryptOptions, type CachingKeyringDecryptOptions, type CachingWrapRequest, type CachingKeyringEvent, type CachingKeyringOperation, type CachingKeyringEvictionReason, type CachingKeyringCounters, type CachingKeyringStats } from './keyrings/caching.js';
export * from './rows/index.js';
export { HierarchicalKeyring, HIERARCHY_PROVIDER, createBranchKey, rotateBranchKey, destroyBranchKey, rewrapBranchKeys, type HierarchicalKeyringOptions, type HierarchicalKeyringStats, type BranchKeySelector, type BranchKeyAdminOptions, type RewrapBranchKeysResult } from './keyrings/hierarchical.js';
export { MemoryBranchKeyStore, branchKeyContext, type BranchKeyStore, type BranchKeyRecord } from './keyrings/branch-key-store.js';
export { auditKeyring, type KeyAccessEvent, type KeyAccessAuditOptions } from './keyrings/audit.js';
