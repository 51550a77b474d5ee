import { Prisma } from '@prisma/client/extension';
import type { OpenRowOptions, SealRowOptions } from '@fieldseal/core';
import { buildPlan } from './lib/config.js';
import { handle, type HookParams } from './lib/hook.js';
import { MARKER } from './lib/marker.js';
import type { WriteContext } from './lib/writes.js';
import type { FieldsealMarker, FieldsealPrismaOptions, PlaintextReport, RuntimeDataModel } from './types.js';

/**
 * The fieldseal Prisma client extension: every encrypted field of the configured models is sealed
 * on every write and opened on every read (nested writes, includes and the fluent API included),
 * equality filters on encrypted fields go through their beacon, and every query that cannot be
 * answered safely on ciphertext is refused with `ERR_FIELDSEAL_UNSUPPORTED_QUERY`. The
 * configuration is checked against the client's data model when `$extends` runs.
 *
 * `$extends` returns a new client and leaves the one it was called on unencrypted: keep the
 * result, and check it with {@link assertActive}. `$queryRaw` and `$executeRaw` pass through
 * untouched (they see ciphertext and headers).
 *
 * Importable from `@fieldseal/prisma`.
 *
 * @example
 * ```ts
 * import { PrismaClient } from './generated/client.js';
 * import { PrismaPg } from '@prisma/adapter-pg';
 * import { fieldseal, assertActive } from '@fieldseal/prisma';
 * const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString }) }).$extends(
 *   fieldseal({ keyring, models: { User: { fields: ['email', 'ssn'], header: 'fieldseal', generateId: 'uuid' } } }),
 * );
 * assertActive(prisma);
 * ```
 * @param options Keyrings, models and their fields, beacons, mode.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` (when `$extends` runs) for an unknown model or field, an encrypted field that is not a String column, a missing header field, a beacon field without a BeaconIndex entry.
 */
export function fieldseal(options: FieldsealPrismaOptions) {
  return Prisma.defineExtension((client) => {
    const dataModel = options?.dataModel ?? ((client as unknown as { _runtimeDataModel?: RuntimeDataModel })._runtimeDataModel as RuntimeDataModel);
    const plan = buildPlan(options, dataModel);
    const mode = options.mode ?? 'strict';
    const seal: SealRowOptions = {
      ...(options.keyring !== undefined ? { keyring: options.keyring } : {}),
      ...(options.keyrings !== undefined ? { keyrings: options.keyrings } : {}),
      ...(options.limits !== undefined ? { limits: options.limits } : {}),
    };
    const open: OpenRowOptions & { onPlaintext?: (r: PlaintextReport) => void } = {
      ...seal,
      ...(mode === 'migration' ? { allowPlaintext: true } : {}),
      ...(options.onPlaintext !== undefined ? { onPlaintext: options.onPlaintext } : {}),
    };
    const ctx: WriteContext = { plan, seal, open };
    const marker: FieldsealMarker = Object.freeze({ active: true, models: Object.freeze([...plan.models.keys()]), mode });
    return client.$extends({
      name: 'fieldseal',
      client: { [MARKER]: marker },
      query: {
        $allModels: {
          $allOperations(params) {
            return handle(plan, ctx, open, client, params as unknown as HookParams);
          },
        },
      },
    });
  });
}

