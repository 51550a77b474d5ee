import { Column, is, Param, Placeholder, SQL, StringChunk, Table, and, eq, inArray, type SQLWrapper } from 'drizzle-orm';
import { refused } from './refused.js';
import type { UnsupportedQueryError } from '@fieldseal/core';
import { sealedCodecOf } from './marks.js';
import { descriptorOf, tableNameOf, type TableDescriptor } from './describe.js';

/** A beacon lookup found in a filter: `eq(table.sealed, value)`. */
export interface BeaconFilter {
  /** The table (or alias) name in the query. */
  readonly table: string;
  readonly descriptor: TableDescriptor;
  /** TS key of the sealed column. */
  readonly key: string;
  readonly value: unknown;
  /** The column object as the query referenced it (an alias proxy keeps its table). */
  readonly column: Column;
}

function isEncrypted(node: unknown): node is Column {
  return is(node, Column) && sealedCodecOf(node) !== undefined;
}

function chunkText(node: unknown): string | undefined {
  return is(node, StringChunk) ? (node as StringChunk).value.join('') : undefined;
}

/** Every chunk of an SQL tree, depth first (SQL, aliased SQL, arrays, Params and query builders). */
function* chunks(node: unknown, depth = 0): Generator<unknown> {
  if (depth > 256) throw refused('the query is nested too deeply to check');
  if (node === null || node === undefined) return;
  if (Array.isArray(node)) {
    for (const n of node) yield* chunks(n, depth + 1);
    return;
  }
  if (is(node, SQL)) {
    for (const c of (node as SQL).queryChunks) yield* chunks(c, depth + 1);
    return;
  }
  if (is(node, SQL.Aliased)) {
    yield* chunks((node as SQL.Aliased).sql, depth + 1);
    return;
  }
  yield node;
  if (is(node, Param)) {
    yield (node as Param).encoder;
    return;
  }
  if (is(node, Column) || is(node, StringChunk) || is(node, Placeholder) || is(node, Table)) return;
  // A subquery (exists(...), inArray(col, subquery)): check what it contains too.
  if (typeof node === 'object' && typeof (node as Partial<SQLWrapper>).getSQL === 'function') yield* chunks((node as SQLWrapper).getSQL(), depth + 1);
}

/** Refuse any use of an encrypted column in `node`, except `isNull` / `isNotNull` when `allowNullTests`. */
export function refuseSealed(node: unknown, where: string, allowNullTests = false): void {
  if (node === undefined || node === null) return;
  if (isEncrypted(node)) throw refusal(node, where);
  if (allowNullTests && nullTest(node)) return;
  if (is(node, SQL) && allowNullTests) {
    // Walk SQL children one level at a time, so that a null test nested in or()/not() is still allowed.
    for (const c of (node as SQL).queryChunks) refuseSealed(c, where, allowNullTests);
    return;
  }
  for (const c of chunks(node)) if (isEncrypted(c)) throw refusal(c, where);
}

function refusal(column: Column, where: string): UnsupportedQueryError {
  return refused(`${where} on the encrypted column "${column.name}" is refused: the database holds only ciphertext there (only eq() through a beacon, isNull and isNotNull are allowed)`, column.name);
}

/** `isNull(col)` / `isNotNull(col)`: true of ciphertext exactly when true of the plaintext. */
function nullTest(node: unknown): boolean {
  if (!is(node, SQL)) return false;
  const q = (node as SQL).queryChunks;
  return q.length === 3 && chunkText(q[0]) === '' && is(q[1], Column) && (chunkText(q[2]) === ' is null' || chunkText(q[2]) === ' is not null');
}

/** `eq(col, value)` as Drizzle builds it: '', col, ' = ', Param(value, col), ''. */
function eqOfSealed(node: unknown): { column: Column; value: unknown } | undefined {
  if (!is(node, SQL)) return undefined;
  const q = (node as SQL).queryChunks;
  if (q.length !== 5 || chunkText(q[0]) !== '' || chunkText(q[2]) !== ' = ' || chunkText(q[4]) !== '') return undefined;
  if (!isEncrypted(q[1]) || !is(q[3], Param) || (q[3] as Param).encoder !== q[1]) return undefined;
  const value = (q[3] as Param).value;
  if (is(value, Placeholder)) return undefined;
  return { column: q[1] as Column, value };
}

/** The conditions of an `and(...)` as Drizzle builds it, or undefined. */
function andParts(node: unknown): unknown[] | undefined {
  if (!is(node, SQL)) return undefined;
  const q = (node as SQL).queryChunks;
  if (q.length === 1 && is(q[0], SQL)) return [q[0]];
  if (q.length !== 3 || chunkText(q[0]) !== '(' || chunkText(q[2]) !== ')' || !is(q[1], SQL)) return undefined;
  const inner = (q[1] as SQL).queryChunks;
  const parts: unknown[] = [];
  for (let i = 0; i < inner.length; i++) {
    if (i % 2 === 1) {
      if (chunkText(inner[i]) !== ' and ') return undefined;
    } else parts.push(inner[i]);
  }
  return parts;
}

/** The table name of a column as it appears in the query (alias-aware). */
export function tableOfColumn(column: Column): string {
  return tableNameOf(column.table as Table);
}

export interface AnalyzedFilter {
  readonly beacons: readonly BeaconFilter[];
  /** Rewrite the filter with the beacon values computed for each lookup (same order as `beacons`). */
  rewrite(values: readonly (readonly string[])[]): SQL | undefined;
}

/**
 * Check a filter: `eq(sealed, value)` in a conjunctive position (the filter itself, or a member of
 * a top-level `and`) becomes a beacon lookup; `isNull`/`isNotNull` pass; any other use of an
 * encrypted column is refused. `beaconsAllowed` false refuses even `eq` (nested relational filters).
 */
export function analyzeFilter(filter: SQL | undefined, where: string, beaconsAllowed = true): AnalyzedFilter {
  if (filter === undefined) return { beacons: [], rewrite: () => undefined };
  const beacons: BeaconFilter[] = [];
  const flat: (unknown | number)[] = [];
  const visit = (node: unknown): void => {
    const parts = andParts(node);
    if (parts !== undefined && !(parts.length === 1 && parts[0] === node)) {
      for (const p of parts) visit(p);
      return;
    }
    const lookup = eqOfSealed(node);
    if (lookup !== undefined && beaconsAllowed) {
      const descriptor = descriptorOf(lookup.column.table);
      const key = descriptor === undefined ? undefined : [...descriptor.sealed.values()].find((s) => s.name === lookup.column.name)?.key;
      if (descriptor === undefined || key === undefined) throw refusal(lookup.column, `${where} eq()`);
      if (!descriptor.beacons.has(key)) throw refused(`eq() on the encrypted column "${lookup.column.name}" needs a beacon column: declare it in fieldseal(table, { beacons })`, lookup.column.name);
      flat.push(beacons.length);
      beacons.push({ table: tableOfColumn(lookup.column), descriptor, key, value: lookup.value, column: lookup.column });
      return;
    }
    refuseSealed(node, where, true);
    flat.push(node);
  };
  visit(filter);
  if (beacons.length === 0) return { beacons, rewrite: () => filter };
  return {
    beacons,
    rewrite(values) {
      const conditions = flat.map((node) => {
        if (typeof node !== 'number') return node as SQL;
        const b = beacons[node]!;
        // The beacon column of the same table instance (an alias proxy gives its aliased column).
        const bidx = (b.column.table as unknown as Record<string, Column>)[b.descriptor.beacons.get(b.key)!.column]!;
        const v = values[node]!;
        return v.length === 1 ? eq(bidx, v[0]!) : inArray(bidx, [...v]);
      });
      return and(...conditions);
    },
  };
}
