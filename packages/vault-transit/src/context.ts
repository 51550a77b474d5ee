import { encodeContext, type EncryptionContext } from '@fieldseal/core';

/**
 * The encryption context as Vault transit receives it: base64 of fieldseal's canonical context
 * encoding (`encodeContext`, the same bytes core binds into every field), so the binding is exact,
 * independent of key order, and reproducible by another implementation from FORMAT.md.
 *
 * An empty context still yields a non-empty encoding (a zero pair count), which matters because
 * Vault refuses derived-key operations without a context.
 */
export function vaultContext(context: EncryptionContext): string {
  return Buffer.from(encodeContext(context)).toString('base64');
}
