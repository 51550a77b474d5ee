import { InvalidArgumentError, type BeaconIndex, type Limits, type OpenRowOptions, type RowKeyrings, type RowLayout, type SealRowOptions } from '@fieldseal/core';

/** What every query runner needs: the bare database (or transaction) and the keys. */
export interface Env {
  /** The Drizzle database or transaction the wrapper runs on. */
  readonly base: any;
  readonly keyrings: RowKeyrings;
  readonly limits: Partial<Limits> | undefined;
  readonly beacons: BeaconIndex | undefined;
  /** True inside `db.transaction`: writes that read first need no transaction of their own. */
  readonly inTransaction: boolean;
  /** Migration mode: plaintext left in sealed columns is read as it is (see WithFieldsealOptions). */
  readonly allowPlaintext: boolean;
  beaconIndex(): BeaconIndex;
  /** Options of openRow(s) and resealRow. */
  openOptions(columns?: readonly string[], layout?: RowLayout): OpenRowOptions;
  sealOptions(): SealRowOptions;
}

export function makeEnv(base: unknown, keyrings: RowKeyrings, limits: Partial<Limits> | undefined, beacons: BeaconIndex | undefined, inTransaction: boolean, allowPlaintext: boolean): Env {
  return {
    base,
    keyrings,
    limits,
    beacons,
    inTransaction,
    allowPlaintext,
    openOptions(columns, layout) {
      // Opening every sealed column takes core's direct path (no selectors to evaluate per row).
      const partial = columns !== undefined && !(layout !== undefined && layout.columns.every((c) => columns.includes(c.property)));
      return { ...keyrings, ...(limits !== undefined ? { limits } : {}), ...(allowPlaintext ? { allowPlaintext } : {}), ...(partial ? { columns } : {}) };
    },
    sealOptions() {
      return { ...keyrings, ...(limits !== undefined ? { limits } : {}) };
    },
    beaconIndex() {
      if (beacons === undefined) throw new InvalidArgumentError('a table declares beacon columns: pass withFieldseal(db, { beacons: BeaconIndex })');
      return beacons;
    },
  };
}

/** Run `work` in a transaction unless one is already open. */
export function inTransaction<T>(env: Env, work: (env: Env) => Promise<T>): Promise<T> {
  if (env.inTransaction) return work(env);
  return env.base.transaction((tx: unknown) => work({ ...env, base: tx, inTransaction: true }));
}
