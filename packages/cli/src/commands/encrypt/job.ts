// The transform of `fieldseal encrypt`, built from plain data (keyring specs, selectors, context
// pairs) so that each `--workers` thread builds the same one: keys are loaded in the thread that
// uses them and never cross a message channel.
import { encrypt as encryptDocument, type KeyGroup } from '@fieldseal/core';
import { groupsFromFlags } from '../../key-groups.js';
import { keyringFromSpecs } from '../../keyring-spec.js';
import { contextFromPairs, type ContextPairs } from '../../lib/context-pairs.js';
import type { DocumentTransform } from '../../lib/ndjson-batch.js';
import { compiledUrl } from '../../lib/thread-pool.js';

/** Everything `fieldseal encrypt` needs to seal a document, as cloneable data. */
export interface EncryptJobData {
  /** Keyring specs of the default key group (none: key groups only). */
  readonly keyring: readonly string[];
  readonly paths: readonly string[];
  readonly groupKeyrings: readonly string[];
  readonly groupPaths: readonly string[];
  readonly headerName?: string | undefined;
  readonly context?: ContextPairs | undefined;
  readonly requiredContext?: ContextPairs | undefined;
  readonly strict: boolean;
}

/** Build the keyrings from their specs and return the sealing transform. */
export default async function encryptJob(data: EncryptJobData): Promise<DocumentTransform> {
  const keyring = data.keyring.length > 0 ? await keyringFromSpecs(data.keyring) : undefined;
  const { keyrings, paths } = await groupsFromFlags(data.groupKeyrings, data.groupPaths, true);
  const groups: KeyGroup[] = Object.keys(keyrings).map((name) => ({ name, keyring: keyrings[name]!, paths: paths[name]! }));
  const context = contextFromPairs(data.context);
  const requiredContext = contextFromPairs(data.requiredContext);
  const options = {
    ...(keyring !== undefined ? { keyring, paths: data.paths } : {}),
    ...(groups.length > 0 ? { groups } : {}),
    ...(data.headerName !== undefined ? { headerName: data.headerName } : {}),
    ...(context ? { context } : {}),
    ...(requiredContext ? { requiredContext } : {}),
    strict: data.strict,
  };
  return (doc) => encryptDocument(doc, options);
}

/** This module's URL for a worker thread (its compiled copy when running from the sources). */
export const encryptJobModule = (): string => compiledUrl(import.meta.url);
