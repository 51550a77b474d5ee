import { defineRowLayout, InvalidArgumentError, type BeaconIndex, type ColumnCodec, type RowLayout } from '@fieldseal/core';
import type { FieldsealPrismaOptions, PrismaFieldOptions, RuntimeDataModel, RuntimeField } from '../types.js';

/** One encrypted field, resolved. */
export interface FieldPlan {
  readonly name: string;
  readonly codec: ColumnCodec;
  /** The beacon field and its name in the BeaconIndex. */
  readonly beacon: { readonly field: string; readonly name: string } | undefined;
}

/** One encrypted model, resolved against the data model. */
export interface ModelPlan {
  readonly model: string;
  readonly layout: RowLayout;
  readonly fields: ReadonlyMap<string, FieldPlan>;
  readonly header: string;
  readonly ids: readonly string[];
  /** Id and context fields: every field whose value is bound to the row's ciphertexts. */
  readonly bound: readonly string[];
  /** Fields the extension writes itself (header, beacons): the application must not. */
  readonly managed: ReadonlySet<string>;
  readonly generateId: (() => string) | undefined;
}

/** Everything the query hook needs, computed once when the extension is created. */
export interface Plan {
  readonly dataModel: RuntimeDataModel;
  readonly models: ReadonlyMap<string, ModelPlan>;
  /** Models from which some relation path reaches an encrypted model (those need walking). */
  readonly reaching: ReadonlySet<string>;
  readonly beacons: BeaconIndex | undefined;
}

function fail(message: string): never {
  throw new InvalidArgumentError(`@fieldseal/prisma: ${message}`);
}

function fieldOf(dataModel: RuntimeDataModel, model: string, name: unknown, role: string): RuntimeField {
  if (typeof name !== 'string' || name.length === 0) fail(`model "${model}": ${role} must be a field name`);
  const field = dataModel.models[model]!.fields.find((f) => f.name === name);
  if (field === undefined) fail(`model "${model}" has no field "${name}" (${role})`);
  if (field.kind !== 'scalar') fail(`model "${model}": ${role} "${name}" must be a scalar column, not a ${field.kind} field`);
  return field;
}

const column = (f: RuntimeField): string => f.dbName ?? f.name;

/**
 * Validates the options against the client's data model and builds one row layout per model, so
 * that every misconfiguration is an error when the extension is created.
 */
export function buildPlan(options: FieldsealPrismaOptions, dataModel: RuntimeDataModel): Plan {
  if (options === null || typeof options !== 'object') fail('options must be an object');
  if (options.keyring === undefined && options.keyrings === undefined) fail('give a keyring (or keyrings per key group)');
  if (options.mode !== undefined && options.mode !== 'strict' && options.mode !== 'migration') fail('mode must be "strict" or "migration"');
  if (dataModel === null || typeof dataModel !== 'object' || dataModel.models === null || typeof dataModel.models !== 'object') fail('the client has no runtime data model; pass dataModel');
  if (options.models === null || typeof options.models !== 'object' || Object.keys(options.models).length === 0) fail('models must name at least one model');
  const models = new Map<string, ModelPlan>();
  const beaconNames = new Set<string>();
  for (const model of Object.keys(options.models)) {
    if (!Object.prototype.hasOwnProperty.call(dataModel.models, model)) fail(`unknown model "${model}" (not in the generated client)`);
    const m = options.models[model]!;
    if (m === null || typeof m !== 'object') fail(`model "${model}": options must be an object`);
    const specs: [string, PrismaFieldOptions][] = Array.isArray(m.fields) ? (m.fields as string[]).map((f) => [f, {}]) : Object.entries((m.fields ?? {}) as Record<string, PrismaFieldOptions>);
    if (specs.length === 0) fail(`model "${model}": fields must name at least one encrypted field`);
    const header = fieldOf(dataModel, model, m.header, 'the header field');
    if (header.type !== 'String') fail(`model "${model}": the header field "${header.name}" must be a String column`);
    const ids = (m.id === undefined ? ['id'] : typeof m.id === 'string' ? [m.id] : [...m.id]).map((id) => fieldOf(dataModel, model, id, 'the id field'));
    const contextFields = Object.entries(m.context ?? {}).map(([key, f]) => [key, fieldOf(dataModel, model, f, `context field "${key}"`)] as const);
    const fields = new Map<string, FieldPlan>();
    const managed = new Set<string>([header.name]);
    const columns = specs.map(([name, spec]) => {
      const f = fieldOf(dataModel, model, name, 'an encrypted field');
      if (f.type !== 'String') fail(`model "${model}": encrypted field "${name}" must be a String column (it holds a ciphertext), not ${f.type}`);
      if (spec === null || typeof spec !== 'object') fail(`model "${model}": options of field "${name}" must be an object`);
      let beacon: FieldPlan['beacon'];
      if (spec.beacon !== undefined) {
        const b = fieldOf(dataModel, model, spec.beacon, `the beacon field of "${name}"`);
        if (b.type !== 'String') fail(`model "${model}": beacon field "${b.name}" must be a String column`);
        if (options.beacons === undefined) fail(`model "${model}": field "${name}" names a beacon, but no beacons (BeaconIndex) were given`);
        const beaconName = spec.beaconName ?? `${model}.${name}`;
        if (!options.beacons.fields.includes(beaconName)) fail(`model "${model}": the BeaconIndex declares no field "${beaconName}" for "${name}"`);
        if (beaconNames.has(b.name + '@' + model)) fail(`model "${model}": beacon field "${b.name}" is used twice`);
        beaconNames.add(b.name + '@' + model);
        managed.add(b.name);
        beacon = { field: b.name, name: beaconName };
      }
      fields.set(name, { name, codec: spec.codec ?? 'string', beacon });
      return { name: column(f), property: name, codec: spec.codec ?? 'string', ...(spec.group !== undefined ? { group: spec.group } : {}) };
    });
    for (const b of managed) if (fields.has(b) || ids.some((i) => i.name === b) || contextFields.some(([, c]) => c.name === b)) fail(`model "${model}": field "${b}" cannot be the header or a beacon and also encrypted or bound`);
    let generateId: (() => string) | undefined;
    if (m.generateId !== undefined) {
      if (ids.length !== 1 || ids[0]!.type !== 'String') fail(`model "${model}": generateId needs a single String id field`);
      if (m.generateId === 'uuid') generateId = () => crypto.randomUUID();
      else if (typeof m.generateId === 'function') generateId = m.generateId;
      else fail(`model "${model}": generateId must be "uuid" or a function`);
    }
    let layout: RowLayout;
    try {
      layout = defineRowLayout({
        columns,
        header: { name: column(header), property: header.name },
        id: ids.map((f) => ({ name: column(f), property: f.name })),
        contextColumns: Object.fromEntries(contextFields.map(([key, f]) => [key, { name: column(f), property: f.name }])),
        ...(m.storedContext !== undefined ? { context: m.storedContext } : {}),
      });
    } catch (err) {
      throw new InvalidArgumentError(`@fieldseal/prisma: model "${model}": ${(err as Error).message}`, { cause: err });
    }
    models.set(model, {
      model,
      layout,
      fields,
      header: header.name,
      ids: ids.map((f) => f.name),
      bound: [...ids.map((f) => f.name), ...contextFields.map(([, f]) => f.name)],
      managed,
      generateId,
    });
  }
  return { dataModel, models, reaching: reachingModels(dataModel, models), beacons: options.beacons };
}

function reachingModels(dataModel: RuntimeDataModel, encrypted: ReadonlyMap<string, ModelPlan>): Set<string> {
  const reaching = new Set(encrypted.keys());
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, model] of Object.entries(dataModel.models)) {
      if (reaching.has(name)) continue;
      if (model.fields.some((f) => f.kind === 'object' && reaching.has(f.type))) {
        reaching.add(name);
        changed = true;
      }
    }
  }
  return reaching;
}

/** The model a relation field points to, or undefined for a scalar or unknown field. */
export function relationTarget(dataModel: RuntimeDataModel, model: string, field: string): string | undefined {
  const f = dataModel.models[model]?.fields.find((x) => x.name === field);
  return f !== undefined && f.kind === 'object' ? f.type : undefined;
}
