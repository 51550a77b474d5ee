// Types of the example server's exports, for its tests.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JsonObject, LocalKeyring, RsaKeyring } from '@fieldseal/core';

export declare const SEALED_POINTERS: readonly string[];
export declare function loadKeyring(path: string): Promise<RsaKeyring>;
export declare function loadStorageKeyring(path: string): Promise<LocalKeyring>;
export declare function bundleClient(): Promise<string>;
export declare function createApp(options: { keyring: RsaKeyring; storageKeyring: LocalKeyring; html: string; script: string; publicKeyPem: string }): {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  signups: Map<string, JsonObject>;
};
export declare function openSignup(keyring: RsaKeyring, sealed: unknown): Promise<JsonObject>;
export declare function resealSignup(keyrings: { keyring: RsaKeyring; storageKeyring: LocalKeyring }, sealed: unknown, id: string): Promise<{ opened: JsonObject; stored: JsonObject }>;
export declare function readSignup(storageKeyring: LocalKeyring, stored: JsonObject, id: string): Promise<JsonObject>;
