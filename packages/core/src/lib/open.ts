import { ContextMismatchError, DecryptionFailedError, IncompleteError, InvalidArgumentError, InvalidSelectorError, KeyUnavailableError, UnsupportedVersionError } from '../errors.js';
import type { JsonObject, JsonValue, Keyring, Limits } from '../types.js';
import type { Backend } from './backend/types.js';
import { zeroize } from './bytes.js';
import { encodeEntries, mergeEntries, type ContextEntry } from './context.js';
import { deriveGroupKeys, fieldAads, fieldAadPrefix, groupKeyringContext, headerMac, type GroupKeys } from './format/document-keys.js';
import { decodeFieldPlaintext, fieldFromString, looksLikeField } from './format/field.js';
import { decodeHeader, type Header, type HeaderGroup } from './format/header.js';
import { cloneDocument } from './json.js';
import { DEFAULT_CALL_CONTROL, unwrapChecked, type KeyringCallControl } from './keyring-call.js';
import { MISSING, ownChild, parsePointer, setOwn, toPointer } from './pointer.js';
import { compileSelector, evaluateSelector, selectsPath } from './selector.js';
import { countFieldLike } from './seal.js';

/** The full context of a sealed document: its stored pairs plus the caller's required values. */
export interface DocumentContext {
  readonly entries: readonly ContextEntry[];
  readonly canonical: Uint8Array;
  readonly required: readonly ContextEntry[];
}

/**
 * Check the caller's expected context against the header (security property 7): every expected
 * pair must equal a stored pair or supply a required key; every required key must be supplied.
 */
export function resolveDocumentContext(header: Header, expected: readonly ContextEntry[]): DocumentContext {
  const stored = new Map(header.storedContext.map((e) => [e.key, e] as const));
  const requiredNames = new Set(header.requiredKeys);
  const required: ContextEntry[] = [];
  for (const e of expected) {
    const s = stored.get(e.key);
    if (s !== undefined) {
      if (s.value !== e.value) throw new ContextMismatchError(`the encryption context value of "${e.key}" does not match the document`, e.key);
    } else if (requiredNames.has(e.key)) {
      required.push(e);
    } else {
      throw new ContextMismatchError(`the document's encryption context has no key "${e.key}"`, e.key);
    }
  }
  for (const name of header.requiredKeys) {
    if (!required.some((e) => e.key === name)) throw new ContextMismatchError(`the required encryption context key "${name}" was not supplied`, name);
  }
  const entries = mergeEntries(header.storedContext, required);
  return { entries, canonical: encodeEntries(entries), required };
}

/** Unwrap a group's data key and verify its commitment and the header MAC, before any field is opened. */
export async function unlockGroup(
  backend: Backend,
  header: Header,
  groupIndex: number,
  keyring: Keyring,
  ctx: DocumentContext,
  control: KeyringCallControl = DEFAULT_CALL_CONTROL,
): Promise<{ keys: GroupKeys; dataKey: Uint8Array }> {
  const group = header.groups[groupIndex]!;
  const dataKey = await unwrapChecked(keyring, group.wrapped, groupKeyringContext(header.suite, ctx.entries, group.name), group.name, control);
  let keys: GroupKeys | undefined;
  try {
    keys = await deriveGroupKeys(backend, dataKey, header.messageId, group.name, header.suite);
    // Key commitment (property 4), then header integrity (property 5), both constant time.
    if (!backend.timingSafeEqual(keys.commitment, group.commitment)) throw new DecryptionFailedError();
    const mac = await headerMac(backend, keys.macKey, header.body, ctx.canonical);
    if (!backend.timingSafeEqual(mac, header.macs[groupIndex]!)) throw new DecryptionFailedError();
    return { keys, dataKey };
  } catch (err) {
    zeroize(dataKey, keys?.encryptionKey, keys?.macKey);
    throw err;
  }
}

/** What the caller asked to open. */
export interface OpenRequest {
  readonly keyringFor: (group: string) => Keyring | undefined;
  readonly expected: readonly ContextEntry[];
  readonly selectors?: readonly string[];
  readonly groups?: readonly string[];
  /** Open only groups among these (absent ones are skipped), unless `everyGroup`. */
  readonly available?: readonly string[];
  /** Groups the header must have; each is verified even when none of its fields is opened. */
  readonly expectGroups: readonly string[];
  /** The oldest algorithm suite accepted. */
  readonly minSuite?: number;
  /** Open every group the header lists (reencrypt: nothing may stay sealed). */
  readonly everyGroup?: boolean;
  readonly headerName: string;
  readonly strict: boolean;
  readonly limits: Limits;
  /** The caller's signal and the keyring-call deadline. */
  readonly control?: KeyringCallControl;
}

/** The result of opening a sealed document. */
export interface Opened {
  readonly document: JsonObject;
  readonly header: Header;
  readonly context: DocumentContext;
  /** Pointers opened, per group index. */
  readonly opened: ReadonlyMap<number, readonly string[]>;
  readonly complete: boolean;
}

/** Parse the sealed document and its header, without keys. */
export function readSealed(backend: Backend, sealed: unknown, headerName: string, limits: Limits): { document: JsonObject; header: Header } {
  const document = cloneDocument(sealed, limits.maxDepth, 'sealed document');
  if (!Object.prototype.hasOwnProperty.call(document, headerName)) throw new IncompleteError(`the document has no "${headerName}" header: it is not sealed, or the header was removed`);
  const header = decodeHeader(backend, document[headerName], limits);
  return { document, header };
}

/** Decide which fields to open: all, those matching selectors, or those of named groups. */
function chooseTargets(document: JsonObject, header: Header, req: OpenRequest): Map<number, string[]> {
  const targets = new Map<number, string[]>();
  const names = req.groups;
  if (names !== undefined) {
    for (const n of names) if (!header.groups.some((g) => g.name === n)) throw new InvalidArgumentError(`the document has no key group "${n}"`);
  }
  const available = req.everyGroup === true ? undefined : req.available;
  const wanted = (name: string) => (names === undefined || names.includes(name)) && (available === undefined || available.includes(name));
  if (req.selectors !== undefined) {
    // With `groups` too, only fields of those groups are opened (least privilege: never widen).
    const eligible: number[] = [];
    header.groups.forEach((g, i) => {
      if (wanted(g.name)) eligible.push(i);
    });
    const chosen = new Set<string>();
    const choose = (gi: number, pointer: string): void => {
      // A Set, not list.includes: a hostile document may list 100,000 matching fields.
      if (chosen.has(pointer)) return;
      chosen.add(pointer);
      const list = targets.get(gi);
      if (list === undefined) targets.set(gi, [pointer]);
      else list.push(pointer);
    };
    let groupOf: Map<string, number> | undefined;
    for (const source of req.selectors) {
      const compiled = compileSelector(source);
      let hit = false;
      if (compiled.singular) {
        // One location at most, found by one step per segment: look it up among the listed fields
        // (callers may pass thousands of concrete paths; each costs its own length, not the header's).
        if (groupOf === undefined) {
          groupOf = new Map();
          for (const gi of eligible) for (const p of header.groups[gi]!.pointers) groupOf.set(p, gi);
        }
        for (const tokens of evaluateSelector(compiled, document, req.headerName)) {
          const pointer = toPointer(tokens);
          const gi = groupOf.get(pointer);
          if (gi === undefined) continue;
          hit = true;
          choose(gi, pointer);
        }
        if (!hit && req.strict) throw new InvalidSelectorError(`selector ${JSON.stringify(source)} matched no encrypted field (strict mode)`, source);
        continue;
      }
      // Only listed fields can be opened, so any other selector is tried on each listed path, never
      // run over the document: the cost is bounded by the header (maxFields x maxDepth), however
      // large or deep the unauthenticated document around the fields is.
      for (const gi of eligible) {
        const g = header.groups[gi]!;
        for (let i = 0; i < g.pointers.length; i++) {
          const pointer = g.pointers[i]!;
          const tokens = g.pointerTokens?.[i] ?? parsePointer(pointer);
          if (tokens === undefined || !selectsPath(compiled, document, tokens, req.headerName)) continue;
          hit = true;
          choose(gi, pointer);
        }
      }
      if (!hit && req.strict) throw new InvalidSelectorError(`selector ${JSON.stringify(source)} matched no encrypted field (strict mode)`, source);
    }
    return targets;
  }
  header.groups.forEach((g, i) => {
    if (wanted(g.name)) targets.set(i, [...g.pointers]);
  });
  // Opening nothing is never what a decrypt without selectors was asked for.
  if (targets.size === 0) throw new KeyUnavailableError('no keyring was given for any key group of the document');
  return targets;
}

/** A listed field, located once: its tokens, its current value and the container that holds it. */
interface LocatedField {
  readonly tokens: readonly string[];
  readonly found: boolean;
  readonly value?: unknown;
  readonly parent?: Record<string, unknown> | unknown[];
}

function locate(document: JsonObject, pointer: string, parsed: readonly string[] | undefined): LocatedField {
  const tokens = parsed ?? parsePointer(pointer)!;
  let parent: unknown = document;
  for (let i = 0; i < tokens.length - 1; i++) {
    parent = ownChild(parent, tokens[i]!);
    if (parent === MISSING) return { tokens, found: false };
  }
  const value = ownChild(parent, tokens[tokens.length - 1]!);
  return value === MISSING ? { tokens, found: false } : { tokens, found: true, value, parent: parent as Record<string, unknown> | unknown[] };
}

/**
 * Completeness (property 6): listed fields are present and encrypted, and nothing unlisted looks
 * encrypted. Returns the targeted fields, located once for the rest of the decryption.
 */
export function checkCompleteness(document: JsonObject, header: Header, targets: Map<number, string[]>): Map<string, LocatedField> {
  let listedFieldLike = 0;
  const targetSet = new Set<string>();
  for (const list of targets.values()) for (const p of list) targetSet.add(p);
  const located = new Map<string, LocatedField>();
  for (const g of header.groups) {
    for (let i = 0; i < g.pointers.length; i++) {
      const pointer = g.pointers[i]!;
      const r = locate(document, pointer, g.pointerTokens?.[i]);
      const isField = r.found && looksLikeField(r.value);
      if (isField) listedFieldLike++;
      if (!targetSet.has(pointer)) continue;
      if (!r.found) throw new IncompleteError(`the encrypted field ${pointer} is missing`, pointer);
      if (!isField) throw new IncompleteError(`the field ${pointer} should be encrypted but holds something else (a downgrade or a partial decrypt)`, pointer);
      located.set(pointer, r);
    }
  }
  if (countFieldLike(document) > listedFieldLike) throw new IncompleteError('a field ciphertext appears at a place the header does not list (duplicated or moved)');
  return located;
}

/** The header indices of the expected groups; a missing one means a group was dropped. */
function expectedGroups(header: Header, names: readonly string[]): number[] {
  const out: number[] = [];
  for (const name of names) {
    const gi = header.groups.findIndex((g) => g.name === name);
    if (gi < 0) throw new IncompleteError(`the document has no key group "${name}", which the caller expects: it was removed, or the document was sealed without it`);
    if (!out.includes(gi)) out.push(gi);
  }
  return out;
}

function groupKeyring(req: OpenRequest, group: HeaderGroup): Keyring {
  const keyring = req.keyringFor(group.name);
  if (keyring === undefined) throw new KeyUnavailableError(`no keyring was given for key group "${group.name}"`);
  return keyring;
}

type Unlocked = { keys: GroupKeys; dataKey: Uint8Array };

/**
 * Unlock the groups concurrently (KMS latency); when one fails, the keys the others got are zeroed
 * and its error is thrown.
 */
async function unlockAll(backend: Backend, header: Header, indices: readonly number[], keyrings: readonly Keyring[], context: DocumentContext, control: KeyringCallControl | undefined): Promise<Unlocked[]> {
  const unlocked = await Promise.allSettled(indices.map((gi, n) => unlockGroup(backend, header, gi, keyrings[n]!, context, control)));
  const failure = unlocked.find((u) => u.status === 'rejected');
  if (failure !== undefined) {
    for (const u of unlocked) if (u.status === 'fulfilled') zeroize(u.value.dataKey, u.value.keys.encryptionKey, u.value.keys.macKey);
    throw (failure as PromiseRejectedResult).reason;
  }
  return unlocked.map((u) => (u as PromiseFulfilledResult<Unlocked>).value);
}

/** Open a sealed document: the shared engine of decrypt, rewrap and reencrypt. */
export async function openSealed(backend: Backend, sealed: unknown, req: OpenRequest): Promise<Opened> {
  const { document, header } = readSealed(backend, sealed, req.headerName, req.limits);
  if (req.minSuite !== undefined && header.suite < req.minSuite) {
    throw new UnsupportedVersionError(`the document uses algorithm suite ${header.suite}, older than the ${req.minSuite} this reader requires (re-encrypt it to upgrade)`);
  }
  const context = resolveDocumentContext(header, req.expected);
  const expected = expectedGroups(header, req.expectGroups);
  const targets = chooseTargets(document, header, req);
  const located = checkCompleteness(document, header, targets);

  // Expected groups whose fields are not opened are still unlocked: their MACs authenticate the
  // header (and so every group's path list) under a key the caller trusts.
  const indices = [...targets.keys()];
  for (const gi of expected) if (!targets.has(gi)) indices.push(gi);
  const keyrings = indices.map((gi) => groupKeyring(req, header.groups[gi]!));
  // One group (the common case) is awaited directly: no allSettled, no extra async hop.
  const unlocked = indices.length === 1 ? [await unlockGroup(backend, header, indices[0]!, keyrings[0]!, context, req.control)] : await unlockAll(backend, header, indices, keyrings, context, req.control);
  try {
    const openGroup = async (gi: number, n: number): Promise<{ pointers: readonly string[]; values: JsonValue[] }> => {
      const { keys, dataKey } = unlocked[n]!;
      zeroize(dataKey);
      const pointers = targets.get(gi);
      if (pointers === undefined) {
        zeroize(keys.encryptionKey, keys.macKey);
        return { pointers: [], values: [] };
      }
      const prefix = fieldAadPrefix(header.messageId, header.groups[gi]!.name, context.canonical, header.suite);
      const aads = fieldAads(prefix, pointers);
      const items = pointers.map((p, i) => ({ aad: aads[i]!, blob: fieldFromString(backend, located.get(p)!.value as string, req.limits.maxFieldBytes) }));
      try {
        const plaintexts = await backend.openMany(keys.encryptionKey, items);
        return { pointers, values: plaintexts.map((pt) => decodeFieldPlaintext(backend, pt)) };
      } finally {
        zeroize(keys.encryptionKey, keys.macKey);
      }
    };
    const results = indices.length === 1 ? [await openGroup(indices[0]!, 0)] : await Promise.all(indices.map(openGroup));
    for (const { pointers, values } of results) {
      pointers.forEach((p, i) => {
        const { tokens, parent } = located.get(p)!;
        // Decrypted JSON is data from whoever held the key: bound its depth like any input. A
        // scalar (the common case: a string) has no depth and is already a fresh JSON value.
        const decrypted = values[i]!;
        const value = decrypted === null || typeof decrypted !== 'object' ? decrypted : (cloneDocument({ v: decrypted }, Math.max(1, req.limits.maxDepth - tokens.length + 1), 'a decrypted field').v as JsonValue);
        setOwn(parent!, tokens[tokens.length - 1]!, value);
      });
    }
  } catch (err) {
    for (const u of unlocked) zeroize(u.dataKey, u.keys.encryptionKey, u.keys.macKey);
    throw err;
  }
  let openedCount = 0;
  for (const list of targets.values()) openedCount += list.length;
  let listedCount = 0;
  for (const g of header.groups) listedCount += g.pointers.length;
  const complete = openedCount === listedCount && targets.size === header.groups.length;
  return { document, header, context, opened: targets, complete };
}
