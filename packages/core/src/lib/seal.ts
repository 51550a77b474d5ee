import { InvalidArgumentError, InvalidSelectorError, LimitExceededError, MalformedError } from '../errors.js';
import type { JsonObject, JsonValue, Keyring, Limits, WrappedKey } from '../types.js';
import { LARGE_FIELD_BYTES, type Backend, type SealItem } from './backend/types.js';
import { utf8Bytes, zeroize } from './bytes.js';
import { encodeEntries, mergeEntries, type ContextEntry } from './context.js';
import { CURRENT_SUITE, FIELD_PREFIX, MESSAGE_ID_LENGTH, TYPE_STRING } from './format/constants.js';
import { deriveGroupKeys, fieldAads, fieldAadPrefix, groupKeyringContext, headerMac, type GroupKeys } from './format/document-keys.js';
import { encodeFieldPlaintext, fieldToString, looksLikeField, textPlaintext, type TextPlaintext } from './format/field.js';
import { encodeHeaderBody, headerToString, type HeaderGroup } from './format/header.js';
import { DEFAULT_CALL_CONTROL, throwIfAborted, wrapChecked, type KeyringCallControl } from './keyring-call.js';
import { setOwn, toPointer, type PathToken } from './pointer.js';
import { compileSelector, evaluateSelector } from './selector.js';

/** One concrete field to encrypt. */
export interface PlannedField {
  readonly tokens: readonly PathToken[];
  readonly pointer: string;
}

/** One key group with its concrete fields. */
export interface GroupPlan {
  readonly name: string;
  readonly keyring: Keyring;
  readonly fields: readonly PlannedField[];
}


/** Check a group name: 1..255 UTF-8 bytes, well-formed. */
export function checkGroupName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || !name.isWellFormed() || utf8Bytes(name).length > 255) {
    throw new InvalidArgumentError('a key group name must be a non-empty string of at most 255 UTF-8 bytes');
  }
  return name;
}

/** Resolve selectors to concrete pointers per group, refusing conflicts and overlaps. */
export function planSelections(
  doc: JsonObject,
  groups: readonly { name: string; keyring: Keyring; selectors: readonly string[] }[],
  headerName: string,
  strict: boolean,
  limits: Limits,
): GroupPlan[] {
  const owner = new Map<string, string>();
  const plans: GroupPlan[] = [];
  for (const g of groups) {
    const fields: PlannedField[] = [];
    for (const source of g.selectors) {
      const compiled = compileSelector(source);
      const matches = evaluateSelector(compiled, doc, headerName, false, limits.maxFields);
      if (matches.length === 0 && strict) throw new InvalidSelectorError(`selector ${JSON.stringify(source)} matched nothing (strict mode)`, source);
      for (const tokens of matches) {
        for (const t of tokens) if (typeof t === 'string' && !t.isWellFormed()) throw new MalformedError('a selected path has a member name with a lone surrogate');
        const pointer = toPointer(tokens);
        const prev = owner.get(pointer);
        if (prev === g.name) continue;
        if (prev !== undefined) throw new InvalidSelectorError(`the field ${pointer} is selected by key groups "${prev}" and "${g.name}"`, source);
        owner.set(pointer, g.name);
        fields.push({ tokens, pointer });
      }
    }
    plans.push({ name: g.name, keyring: g.keyring, fields });
  }
  if (owner.size > limits.maxFields) throw new LimitExceededError(`more than ${limits.maxFields} fields selected`, 'maxFields');
  // A selection inside another selection would be encrypted twice and could not be restored.
  // Member names escape '/' as '~1', so every '/' after the first character ends an ancestor's pointer.
  for (const plan of plans) {
    for (const f of plan.fields) {
      for (let i = f.pointer.indexOf('/', 1); i !== -1; i = f.pointer.indexOf('/', i + 1)) {
        const ancestor = f.pointer.slice(0, i);
        if (owner.has(ancestor)) throw new InvalidSelectorError(`selections overlap: ${ancestor} contains ${f.pointer}`, f.pointer);
      }
    }
  }
  return plans;
}

/** Count strings that look like field ciphertexts anywhere in a document (iteratively). */
export function countFieldLike(doc: JsonValue): number {
  let n = 0;
  // One frame per open container (memory bounded by depth, not by width): the container, its
  // member names (objects) and the next child.
  const stack: { v: JsonValue[] | Record<string, JsonValue>; keys: string[] | undefined; next: number }[] = [];
  const visit = (v: JsonValue): void => {
    if (typeof v === 'string') {
      if (looksLikeField(v)) n++;
    } else if (v !== null && typeof v === 'object') {
      stack.push({ v, keys: Array.isArray(v) ? undefined : Object.keys(v), next: 0 });
    }
  };
  visit(doc);
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    const depth = stack.length;
    if (f.keys === undefined) {
      const a = f.v as JsonValue[];
      while (f.next < a.length && stack.length === depth) visit(a[f.next++]!);
      if (f.next === a.length && stack.length === depth) stack.pop();
    } else {
      const o = f.v as Record<string, JsonValue>;
      while (f.next < f.keys.length && stack.length === depth) visit(o[f.keys[f.next++]!]!);
      if (f.next === f.keys.length && stack.length === depth) stack.pop();
    }
  }
  return n;
}

function getAt(doc: JsonObject, tokens: readonly PathToken[]): JsonValue {
  let cur: JsonValue = doc;
  for (const t of tokens) cur = (cur as Record<string, JsonValue>)[t as string]!;
  return cur;
}

function setAt(doc: JsonObject, tokens: readonly PathToken[], value: JsonValue): void {
  let cur: JsonValue = doc;
  for (let i = 0; i < tokens.length - 1; i++) cur = (cur as Record<string, JsonValue>)[tokens[i] as string]!;
  setOwn(cur as Record<string, unknown>, tokens[tokens.length - 1]!, value);
}

/** A field's plaintext as planned: encoded bytes, or a large string the backend encodes as it seals. */
type PlannedPlaintext = Uint8Array | TextPlaintext;

/** The plaintext's UTF-8 length without the type byte. */
function valueBytes(p: PlannedPlaintext): number {
  return p instanceof Uint8Array ? p.length - 1 : p.bytes;
}

/** Whether a field is sealed by the backend's large-field path (`sealTextToBase64url` or `sealToBase64url`). */
function isLarge(backend: Backend, p: PlannedPlaintext): boolean {
  return !(p instanceof Uint8Array) || (backend.sealToBase64url !== undefined && p.length >= LARGE_FIELD_BYTES);
}

/** A large field's string, sealed synchronously: large strings as text, other large plaintexts from their bytes. */
function sealLargeField(backend: Backend, key: Uint8Array, aad: Uint8Array, p: PlannedPlaintext): string {
  if (!(p instanceof Uint8Array)) return FIELD_PREFIX + backend.sealTextToBase64url!(key, aad, TYPE_STRING, p.text);
  return FIELD_PREFIX + backend.sealToBase64url!(key, { aad, plaintext: p });
}

/**
 * Encrypt the planned fields of `doc` (a clone we own, modified in place) and add the header.
 * Used by encrypt and reencrypt.
 */
export async function sealPlanned(
  backend: Backend,
  doc: JsonObject,
  plans: readonly GroupPlan[],
  stored: readonly ContextEntry[],
  required: readonly ContextEntry[],
  headerName: string,
  limits: Limits,
  control: KeyringCallControl = DEFAULT_CALL_CONTROL,
  suite: number = CURRENT_SUITE,
): Promise<JsonObject> {
  // No string outside the selection may look like a field ciphertext: decrypt relies on that to
  // detect a ciphertext duplicated to an unlisted place.
  const fieldLike = countFieldLike(doc);
  if (fieldLike > 0) {
    let selectedFieldLike = 0;
    for (const p of plans) for (const f of p.fields) if (looksLikeField(getAt(doc, f.tokens))) selectedFieldLike++;
    if (fieldLike > selectedFieldLike) throw new MalformedError('the document contains an unselected string that looks like a fieldseal ciphertext ("fs1." prefix); select it or change it');
  }
  const full = mergeEntries(stored, required);
  const canonical = encodeEntries(full);
  const messageId = backend.randomBytes(MESSAGE_ID_LENGTH);

  // Encode every field first (a caching keyring's byte limit needs the size), wrap the groups in
  // parallel (KMS latency), derive each group's keys, MAC the header, then seal the fields.
  // Large strings stay text where the backend can seal text (node): it encodes them a slice at a time.
  const utf8Length = backend.sealTextToBase64url !== undefined ? backend.utf8Length?.bind(backend) : undefined;
  const planPlaintext = (value: JsonValue): PlannedPlaintext =>
    (utf8Length !== undefined ? textPlaintext(value, LARGE_FIELD_BYTES, limits.maxFieldBytes, utf8Length) : undefined) ?? encodeFieldPlaintext(value, limits.maxFieldBytes);
  const encoded = plans.map((plan) => plan.fields.map((f) => planPlaintext(getAt(doc, f.tokens))));
  const keyedGroups: { plan: GroupPlan; wrapped: WrappedKey[]; keys: GroupKeys }[] = [];
  const wrappedGroups: { dataKey: Uint8Array; wrapped: WrappedKey[] }[] = [];
  try {
    // allSettled, not all: when one group fails, the data keys the others got must still be zeroed.
    const settled = await Promise.allSettled(
      plans.map((plan, i) => wrapChecked(plan.keyring, groupKeyringContext(suite, full, plan.name), limits, undefined, encoded[i]!.reduce((n, p) => n + valueBytes(p), 0), control)),
    );
    for (const r of settled) if (r.status === 'fulfilled') wrappedGroups.push(r.value);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    for (let i = 0; i < plans.length; i++) {
      const { dataKey, wrapped } = wrappedGroups[i]!;
      const keys = await deriveGroupKeys(backend, dataKey, messageId, plans[i]!.name, suite);
      zeroize(dataKey);
      keyedGroups.push({ plan: plans[i]!, wrapped, keys });
    }
    // The header depends on the keys and the field list, not on the ciphertexts, so it is built and
    // MAC'd before any field is sealed, and large fields are sealed last, with no await after them.
    const headerGroups: HeaderGroup[] = keyedGroups.map((g) => ({
      name: g.plan.name,
      wrapped: g.wrapped as readonly WrappedKey[],
      commitment: g.keys.commitment,
      pointers: g.plan.fields.map((f) => f.pointer),
    }));
    const body = encodeHeaderBody({ suite, messageId, storedContext: stored, requiredKeys: required.map((e) => e.key), groups: headerGroups });
    if (body.length > limits.maxHeaderBytes) throw new LimitExceededError(`the header would exceed ${limits.maxHeaderBytes} bytes`, 'maxHeaderBytes');
    const macs = await Promise.all(keyedGroups.map((g) => headerMac(backend, g.keys.macKey, body, canonical)));
    const aads = keyedGroups.map((g) => fieldAads(fieldAadPrefix(messageId, g.plan.name, canonical, suite), g.plan.fields.map((f) => f.pointer)));
    // Small fields first, one sealMany per group; then the large ones, synchronously.
    const large = encoded.map((group) => group.map((p) => isLarge(backend, p)));
    const small = await Promise.all(
      keyedGroups.map((g, i) => {
        const items: SealItem[] = [];
        encoded[i]!.forEach((p, j) => {
          if (!large[i]![j]) items.push({ aad: aads[i]![j]!, plaintext: p as Uint8Array });
        });
        return items.length === 0 ? [] : backend.sealMany(g.keys.encryptionKey, items);
      }),
    );
    throwIfAborted(control);
    keyedGroups.forEach((g, i) => {
      let next = 0;
      encoded[i]!.forEach((p, j) => {
        const field = large[i]![j] ? sealLargeField(backend, g.keys.encryptionKey, aads[i]![j]!, p) : fieldToString(backend, small[i]![next++]!);
        setAt(doc, g.plan.fields[j]!.tokens, field);
      });
    });
    setOwn(doc as Record<string, unknown>, headerName, headerToString(backend, body, macs));
    return doc;
  } catch (err) {
    for (const w of wrappedGroups) zeroize(w.dataKey);
    throw err;
  } finally {
    for (const g of keyedGroups) zeroize(g.keys.encryptionKey, g.keys.macKey);
    // A loop, not zeroize(...group): spreading 125,000+ arguments overflows the call stack.
    for (const group of encoded) for (const p of group) if (p instanceof Uint8Array) p.fill(0);
  }
}
