// Cloud KMS resource names. A wrapped key records the CryptoKeyVersion; keyrings are configured
// with a CryptoKey (or a version of it) and only ever call versions of that CryptoKey.

const CRYPTO_KEY = /^projects\/[^/\s]+\/locations\/[^/\s]+\/keyRings\/[^/\s]+\/cryptoKeys\/[^/\s]+$/;
const VERSION = /^(projects\/[^/\s]+\/locations\/[^/\s]+\/keyRings\/[^/\s]+\/cryptoKeys\/[^/\s]+)\/cryptoKeyVersions\/[1-9][0-9]{0,18}$/;

/** True for `projects/P/locations/L/keyRings/R/cryptoKeys/K`. */
export function isCryptoKeyName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= 1024 && CRYPTO_KEY.test(name);
}

/** True for `…/cryptoKeys/K/cryptoKeyVersions/N`. */
export function isCryptoKeyVersionName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= 1024 && VERSION.test(name);
}

/** The CryptoKey of a CryptoKey or CryptoKeyVersion name, or undefined when it is neither. */
export function cryptoKeyOf(name: string): string | undefined {
  if (name.length > 1024) return undefined;
  if (CRYPTO_KEY.test(name)) return name;
  return VERSION.exec(name)?.[1];
}
