import { DecryptionFailedError } from '../errors.js';
import type { JsonObject, Keyring, Limits } from '../types.js';
import type { Backend } from './backend/types.js';
import { zeroize } from './bytes.js';
import type { ContextEntry } from './context.js';
import { fieldAadPrefix, fieldAads, groupKeyringContext, headerMac, type GroupKeys } from './format/document-keys.js';
import { decodeFieldPlaintext, fieldFromString } from './format/field.js';
import { decodeHeader, type Header } from './format/header.js';
import { unwrapChecked, type KeyringCallControl } from './keyring-call.js';
import { checkCompleteness, resolveDocumentContext } from './open.js';

/** What rewrap knows when it has written the new header: the source header and the keys it proved. */
export interface RewrappedState {
  readonly document: JsonObject;
  readonly headerName: string;
  /** The header as read (authenticated by the source keyrings). */
  readonly source: Header;
  /** Per group: the data key the source keyring unwrapped and the keys derived from it for `source`. */
  readonly unlocked: readonly { readonly keys: GroupKeys; readonly dataKey: Uint8Array }[];
  /** Per group: the target keyring. */
  readonly targets: readonly Keyring[];
  /** The caller's expected context entries (as decrypt would get them). */
  readonly expected: readonly ContextEntry[];
  readonly limits: Limits;
  readonly control: KeyringCallControl;
}

function sameBytes(backend: Backend, a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && backend.timingSafeEqual(a, b);
}

/**
 * Everything `decrypt(document, { keyring: target, context })` checks, in one pass over what
 * rewrap already holds: the new header is decoded from the document as written; each target keyring
 * unwraps the group's wrapped keys as stored there, to the very data key the source keyring gave
 * (so the keys decrypt would derive, from that key, the same message id and the same group name,
 * are the ones rewrap derived: no second HKDF); the commitment and the header MAC of the new header
 * are checked with them; completeness is checked; and every listed field is opened and its
 * plaintext decoded. Field ciphertexts are the ones the source header authenticated, so opening
 * them once proves the same plaintext comes out under the target. Throws what decrypt would throw.
 */
export async function verifyRewrapped(backend: Backend, s: RewrappedState): Promise<void> {
  const fresh = decodeHeader(backend, s.document[s.headerName], s.limits);
  // The derived keys are a function of the data key, the message id and the group name: reuse
  // them only when all three are the ones they were derived from.
  if (fresh.suite !== s.source.suite || !sameBytes(backend, fresh.messageId, s.source.messageId) || fresh.groups.length !== s.source.groups.length) throw new DecryptionFailedError();
  const ctx = resolveDocumentContext(fresh, s.expected);
  const targets = new Map<number, string[]>();
  for (let i = 0; i < fresh.groups.length; i++) {
    const group = fresh.groups[i]!;
    if (group.name !== s.source.groups[i]!.name) throw new DecryptionFailedError();
    const { keys, dataKey } = s.unlocked[i]!;
    const opened = await unwrapChecked(s.targets[i]!, group.wrapped, groupKeyringContext(fresh.suite, ctx.entries, group.name), group.name, s.control);
    const same = backend.timingSafeEqual(opened, dataKey);
    zeroize(opened);
    if (!same) throw new DecryptionFailedError();
    if (!backend.timingSafeEqual(keys.commitment, group.commitment)) throw new DecryptionFailedError();
    const mac = await headerMac(backend, keys.macKey, fresh.body, ctx.canonical);
    if (!sameBytes(backend, mac, fresh.macs[i]!)) throw new DecryptionFailedError();
    targets.set(i, [...group.pointers]);
  }
  const located = checkCompleteness(s.document, fresh, targets);
  for (const [gi, pointers] of targets) {
    const prefix = fieldAadPrefix(fresh.messageId, fresh.groups[gi]!.name, ctx.canonical, fresh.suite);
    const aads = fieldAads(prefix, pointers);
    const items = pointers.map((p, i) => ({ aad: aads[i]!, blob: fieldFromString(backend, located.get(p)!.value as string, s.limits.maxFieldBytes) }));
    const plaintexts = await backend.openMany(s.unlocked[gi]!.keys.encryptionKey, items);
    try {
      for (const pt of plaintexts) decodeFieldPlaintext(backend, pt);
    } finally {
      // A loop, not zeroize(...plaintexts): a spread of 100,000+ arguments overflows the stack.
      for (const pt of plaintexts) pt.fill(0);
    }
  }
}
