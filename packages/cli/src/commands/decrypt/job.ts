// The transform of `fieldseal decrypt`, built from plain data so that each `--workers` thread
// builds the same one from the keyring specs (no key crosses a message channel).
import { decrypt as decryptDocument } from '@fieldseal/core';
import { groupsFromFlags } from '../../key-groups.js';
import { keyringFromSpecs } from '../../keyring-spec.js';
import { contextFromPairs, type ContextPairs } from '../../lib/context-pairs.js';
import type { DocumentTransform } from '../../lib/ndjson-batch.js';
import { compiledUrl } from '../../lib/thread-pool.js';

/** Everything `fieldseal decrypt` needs to open a document, as cloneable data. */
export interface DecryptJobData {
  /** Keyring specs tried for every key group (none: only the named groups open). */
  readonly keyring: readonly string[];
  /** `NAME=SPEC` per key group. */
  readonly groupKeyrings: readonly string[];
  readonly headerName?: string | undefined;
  readonly context?: ContextPairs | undefined;
  readonly paths: readonly string[];
  readonly minSuite?: number | undefined;
}

/** Build the keyrings from their specs and return the opening transform. */
export default async function decryptJob(data: DecryptJobData): Promise<DocumentTransform> {
  const keyring = data.keyring.length > 0 ? await keyringFromSpecs(data.keyring) : undefined;
  const { keyrings } = await groupsFromFlags(data.groupKeyrings, [], false);
  const named = Object.keys(keyrings).length > 0;
  const context = contextFromPairs(data.context);
  const options = {
    ...(keyring !== undefined ? { keyring } : {}),
    ...(named ? { keyrings } : {}),
    ...(data.headerName !== undefined ? { headerName: data.headerName } : {}),
    ...(context ? { context } : {}),
    ...(data.paths.length > 0 ? { paths: data.paths } : {}),
    ...(data.minSuite !== undefined ? { minSuite: data.minSuite } : {}),
  };
  return (doc) => decryptDocument(doc, options);
}

/** This module's URL for a worker thread (its compiled copy when running from the sources). */
export const decryptJobModule = (): string => compiledUrl(import.meta.url);
