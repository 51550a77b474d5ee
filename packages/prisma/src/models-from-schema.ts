import { InvalidArgumentError } from '@fieldseal/core';
import type { PrismaFieldOptions, PrismaModelOptions } from './types.js';

/** The parts of a Prisma DMMF model (as a generator receives it) that `/// @fieldseal` comments are read from. */
export interface SchemaModel {
  readonly name: string;
  readonly documentation?: string;
  readonly fields: readonly {
    readonly name: string;
    readonly kind: string;
    readonly type: string;
    readonly isId?: boolean;
    readonly isList?: boolean;
    readonly documentation?: string;
    readonly default?: unknown;
  }[];
}

const TAG = /^\s*@fieldseal\b(.*)$/;

function directives(doc: string | undefined): string[][] {
  const out: string[][] = [];
  for (const line of (doc ?? '').split('\n')) {
    const m = TAG.exec(line);
    if (m !== null) out.push(m[1]!.trim().split(/\s+/).filter(Boolean));
  }
  return out;
}

function option(model: string, field: string, word: string): [string, string] {
  const i = word.indexOf('=');
  if (i <= 0 || i === word.length - 1) throw new InvalidArgumentError(`@fieldseal/prisma: ${model}.${field}: expected key=value in /// @fieldseal, got "${word.slice(0, 40)}"`);
  return [word.slice(0, i), word.slice(i + 1)];
}

/**
 * Reads `/// @fieldseal` comments of a Prisma schema (as the fieldseal generator receives it) into
 * the `models` option of {@link fieldseal}. On a field: `/// @fieldseal` or `/// @fieldseal encrypted`
 * (options `beacon=<field>`, `codec=<codec>`, `group=<name>`, `beaconName=<name>`), `/// @fieldseal header`,
 * `/// @fieldseal id`, `/// @fieldseal context=<key>`. Without an `id` directive the model's `@id`
 * fields are bound; an id with `@default(uuid())` gets `generateId: 'uuid'`.
 *
 * Importable from `@fieldseal/prisma`.
 *
 * @example
 * ```text
 * model User {
 *   id        String  @id @default(uuid())
 *   /// @fieldseal encrypted beacon=emailBidx
 *   email     String?
 *   emailBidx String?
 *   /// @fieldseal header
 *   fieldseal String?
 * }
 * ```
 * @param models The datamodel's models (`options.dmmf.datamodel.models` in a generator).
 * @returns The models option, for every model with at least one directive.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for an unknown directive or option, or an encrypted model without a header.
 */
export function modelsFromSchema(models: readonly SchemaModel[]): Record<string, PrismaModelOptions> {
  const out: Record<string, PrismaModelOptions> = {};
  for (const model of models) {
    const fields: Record<string, PrismaFieldOptions> = {};
    const ids: string[] = [];
    const context: Record<string, string> = {};
    let header: string | undefined;
    let any = false;
    for (const f of model.fields) {
      for (const words of directives(f.documentation)) {
        any = true;
        // A bare `@fieldseal` or one starting with an option (`@fieldseal beacon=…`) means encrypted.
        const [kind = 'encrypted', ...rest] = words[0] !== undefined && words[0].includes('=') && !words[0].startsWith('context=') ? ['encrypted', ...words] : words;
        switch (kind) {
          case 'encrypted': {
            const spec: Record<string, string> = {};
            for (const w of rest) {
              const [k, v] = option(model.name, f.name, w);
              if (!['beacon', 'codec', 'group', 'beaconName'].includes(k)) throw new InvalidArgumentError(`@fieldseal/prisma: ${model.name}.${f.name}: unknown option "${k}" (use beacon, codec, group, beaconName)`);
              spec[k] = v;
            }
            fields[f.name] = spec as PrismaFieldOptions;
            break;
          }
          case 'header':
            if (header !== undefined) throw new InvalidArgumentError(`@fieldseal/prisma: model ${model.name} has two header fields`);
            header = f.name;
            break;
          case 'id':
            ids.push(f.name);
            break;
          default:
            if (kind.startsWith('context=')) {
              context[option(model.name, f.name, kind)[1]] = f.name;
              break;
            }
            throw new InvalidArgumentError(`@fieldseal/prisma: ${model.name}.${f.name}: unknown /// @fieldseal directive "${kind.slice(0, 40)}" (use encrypted, header, id, context=<key>)`);
        }
      }
    }
    if (!any) continue;
    if (header === undefined) throw new InvalidArgumentError(`@fieldseal/prisma: model ${model.name} has /// @fieldseal fields but no /// @fieldseal header field`);
    const idFields = ids.length > 0 ? ids : model.fields.filter((f) => f.isId).map((f) => f.name);
    const idField = idFields.length === 1 ? model.fields.find((f) => f.name === idFields[0]) : undefined;
    const uuid = idField !== undefined && idField.type === 'String' && (idField.default as { name?: unknown } | undefined)?.name === 'uuid';
    out[model.name] = {
      fields,
      header,
      ...(idFields.length > 0 ? { id: idFields.length === 1 ? idFields[0]! : idFields } : {}),
      ...(Object.keys(context).length > 0 ? { context } : {}),
      ...(uuid ? { generateId: 'uuid' as const } : {}),
    };
  }
  return out;
}
