import { defineRowLayout, inspectRow, type RowLayout } from '@fieldseal/core';
import type { Client } from 'pg';

/** The users table of the row tests: a bigint id, a tenant bound as context, two sealed columns and the header. */
export const USERS_DDL = (table: string) => `CREATE TABLE "${table}" (id bigint PRIMARY KEY, tenant_id text NOT NULL, email text, ssn text, plan text, fieldseal text)`;

/** The layout the CLI builds from `--columns email,ssn --header-column fieldseal --id-column id --context-column tenant=tenant_id --context table=users`. */
export function usersLayout(): RowLayout {
  return defineRowLayout({ columns: ['email', 'ssn'], header: 'fieldseal', id: 'id', contextColumns: { tenant: 'tenant_id' }, context: { table: 'users' } });
}

/** The CLI flags of {@link usersLayout}. */
export const USERS_FLAGS = ['--id-column', 'id', '--columns', 'email,ssn', '--header-column', 'fieldseal', '--context-column', 'tenant=tenant_id', '--context', 'table=users'];

/** Plaintext of user `i` at write `version` (ssn NULL for every fifth user). */
export function plainUser(i: number, version = 0): { id: string; tenant_id: string; email: string; ssn: string | null; plan: string } {
  return { id: String(i), tenant_id: `t${i % 3}`, email: `user${i}.v${version}@example.com`, ssn: i % 5 === 0 ? null : `078-05-${String(i).padStart(4, '0')}-${version}`, plan: i % 2 === 0 ? 'pro' : 'free' };
}

/** Rows as the row store reads them (every column as text). */
export async function readUsers(admin: Client, table: string): Promise<Record<string, string | null>[]> {
  const { rows } = await admin.query<Record<string, string | null>>(`SELECT t.id::text AS id, tenant_id, email, ssn, plan, fieldseal FROM "${table}" AS t ORDER BY t.id`);
  return rows;
}

/** Plaintext values left in the sealed columns, counted in SQL the way an operator would check. */
export async function plaintextLeft(admin: Client, table: string): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(`SELECT (count(*) FILTER (WHERE email IS NOT NULL AND email NOT LIKE 'fs1.%') + count(*) FILTER (WHERE ssn IS NOT NULL AND ssn NOT LIKE 'fs1.%'))::text AS n FROM "${table}"`);
  return Number(rows[0]!.n);
}

/** Keyless classification of every row (core's inspectRow). */
export function states(rows: readonly Record<string, unknown>[], layout: RowLayout): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) {
    const s = inspectRow(r, layout).state;
    out[s] = (out[s] ?? 0) + 1;
  }
  return out;
}
