/**
 * A loopback emulator of Google Cloud KMS (`google.cloud.kms.v1.KeyManagementService`) over gRPC,
 * built from the protos shipped with `@google-cloud/kms`, so the real client runs unmodified
 * against it.
 * @module
 */
import * as grpc from '@grpc/grpc-js';
import { FaultInjector, RequestCounters, assertLoopbackHost, delay, testTlsFixture } from '../harness.js';
import { kmsCrypto } from './crypto.js';
import { kmsModel } from './model.js';
import { startRelay } from './relay.js';
import type { GcpKmsEmulator, GcpKmsEmulatorAlgorithm, GcpKmsEmulatorOptions, GcpKmsEmulatorPurpose } from './types.js';
import { kmsService, RpcError, stringField, timestamp, type Request, type Response } from './wire.js';


/**
 * Start a Cloud KMS emulator on loopback.
 *
 * Implements `CreateKeyRing`, `GetKeyRing`, `CreateCryptoKey`, `GetCryptoKey`,
 * `CreateCryptoKeyVersion`, `GetCryptoKeyVersion`, `UpdateCryptoKeyVersion` (state),
 * `UpdateCryptoKeyPrimaryVersion`, `Encrypt`, `Decrypt`, `GetPublicKey` (with `publicKeyFormat` PEM or DER) and `AsymmetricDecrypt`;
 * other RPCs answer `UNIMPLEMENTED`. Symmetric ciphertexts are AES-256-GCM with the additional
 * authenticated data bound and carry the version that made them; every CRC32C field is computed
 * on responses and verified on requests (`INVALID_ARGUMENT` on mismatch).
 *
 * Failpoints: `server-error` answers `UNAVAILABLE` (or `fault.status`), `throttle` answers
 * `RESOURCE_EXHAUSTED`, `delay` waits, `drop` cuts every client connection (the client sees
 * `UNAVAILABLE` at once and reconnects), `blackhole` never answers (the client's deadline expires), and
 * `corrupt-response` corrupts the response's checksum (`ciphertextCrc32c`, `plaintextCrc32c`,
 * `pemCrc32c`).
 *
 * @param options - Port, loopback host, TLS and an optional bearer token to require.
 * @returns The running emulator; call `close()` when done.
 * @throws Error when `host` is not a loopback address.
 * @example
 * ```ts
 * import { KeyManagementServiceClient } from '@google-cloud/kms';
 * import { startGcpKmsEmulator } from '@fieldseal/emulators';
 *
 * const emulator = await startGcpKmsEmulator();
 * const ring = emulator.createKeyRing('projects/demo/locations/global', 'ring');
 * const keyName = await emulator.createCryptoKey(ring, 'kek');
 * const client = new KeyManagementServiceClient(emulator.clientOptions());
 * const [response] = await client.encrypt({ name: keyName, plaintext: Buffer.from('hello') });
 * await client.close();
 * await emulator.close();
 * ```
 */
export async function startGcpKmsEmulator(options: GcpKmsEmulatorOptions = {}): Promise<GcpKmsEmulator> {
  const host = assertLoopbackHost(options.host ?? '127.0.0.1');
  const tls = options.tls === true ? testTlsFixture() : options.tls || undefined;
  const counters = new RequestCounters();
  const faults = new FaultInjector();
  const tampers: { operation: string; mutate: (response: Response) => void }[] = [];

  const model = kmsModel();
  const { keyRings, keyRingOrThrow, cryptoKeyOrThrow, versionOrThrow, requireEnabled, newVersion, createKeyRing, createCryptoKey, setPrimaryVersion, versionResource, keyResource } = model;
  const { encrypt, decrypt, getPublicKey, asymmetricDecrypt } = kmsCrypto(model);

  // --- RPC plumbing -----------------------------------------------------------------------------

  const corruptField: Record<string, string> = {
    Encrypt: 'ciphertextCrc32c',
    Decrypt: 'plaintextCrc32c',
    AsymmetricDecrypt: 'plaintextCrc32c',
    GetPublicKey: 'pemCrc32c',
  };

  function rpc(operation: string, handler: (request: Request) => Response | Promise<Response>): grpc.handleUnaryCall<Request, Response> {
    return (call, callback) => {
      void (async () => {
        counters.increment(operation);
        const fault = faults.take(operation);
        if (fault?.kind === 'delay') await delay(fault.delayMs ?? 100);
        if (fault?.kind === 'blackhole') return; // never answer: the client's deadline decides
        if (fault?.kind === 'drop') {
          relay.dropAll(); // every client connection reset, as a network drop would; this call is never answered
          return;
        }
        if (fault?.kind === 'server-error') throw new RpcError(fault.status ?? grpc.status.UNAVAILABLE, 'The service is currently unavailable.');
        if (fault?.kind === 'throttle') throw new RpcError(grpc.status.RESOURCE_EXHAUSTED, 'Quota exceeded for quota metric cryptographic requests.');
        if (options.requireToken !== undefined) {
          const auth = call.metadata.get('authorization')[0];
          if (auth !== `Bearer ${options.requireToken}`) throw new RpcError(grpc.status.UNAUTHENTICATED, 'Request had invalid authentication credentials.');
        }
        const response = await handler(call.request);
        if (fault?.kind === 'corrupt-response') {
          const field = corruptField[operation];
          const wrapper = field === undefined ? undefined : (response[field] as { value: string } | undefined);
          if (field !== undefined && wrapper !== undefined) response[field] = { value: String((Number(wrapper.value) ^ 0x1) >>> 0) };
        }
        const tamper = tampers.findIndex((t) => t.operation === operation);
        if (tamper >= 0) tampers.splice(tamper, 1)[0]!.mutate(response);
        callback(null, response);
      })().catch((err: unknown) => {
        if (err instanceof RpcError) {
          callback({ code: err.code, details: err.details, metadata: new grpc.Metadata() });
        } else {
          callback({ code: grpc.status.INTERNAL, details: 'Internal error in the emulator.', metadata: new grpc.Metadata() });
        }
      });
    };
  }

  const implementation: grpc.UntypedServiceImplementation = {
    createKeyRing: rpc('CreateKeyRing', (request) => {
      const name = createKeyRing(stringField(request, 'parent'), stringField(request, 'keyRingId'));
      return { name, createTime: timestamp(keyRings.get(name)!) };
    }),
    getKeyRing: rpc('GetKeyRing', (request) => {
      const name = stringField(request, 'name');
      keyRingOrThrow(name);
      return { name, createTime: timestamp(keyRings.get(name)!) };
    }),
    createCryptoKey: rpc('CreateCryptoKey', async (request) => {
      const template = ((request.cryptoKey as Request | undefined)?.versionTemplate ?? {}) as Request;
      const purpose = (request.cryptoKey as Request | undefined)?.purpose as GcpKmsEmulatorPurpose | undefined;
      const algorithm = template.algorithm as GcpKmsEmulatorAlgorithm | undefined;
      const key = await createCryptoKey(
        stringField(request, 'parent'),
        stringField(request, 'cryptoKeyId'),
        { ...(purpose ? { purpose } : {}), ...(algorithm ? { algorithm } : {}) },
        request.skipInitialVersionCreation === true,
      );
      return keyResource(key);
    }),
    getCryptoKey: rpc('GetCryptoKey', (request) => keyResource(cryptoKeyOrThrow(stringField(request, 'name')))),
    createCryptoKeyVersion: rpc('CreateCryptoKeyVersion', async (request) => {
      const key = cryptoKeyOrThrow(stringField(request, 'parent'));
      return versionResource(key, await newVersion(key));
    }),
    getCryptoKeyVersion: rpc('GetCryptoKeyVersion', (request) => {
      const { key, version } = versionOrThrow(stringField(request, 'name'));
      return versionResource(key, version);
    }),
    updateCryptoKeyVersion: rpc('UpdateCryptoKeyVersion', (request) => {
      const body = (request.cryptoKeyVersion ?? {}) as Request;
      const paths = ((request.updateMask as { paths?: string[] } | undefined)?.paths ?? []).map(String);
      if (paths.length !== 1 || paths[0] !== 'state') throw new RpcError(grpc.status.INVALID_ARGUMENT, 'The emulator updates only the state field (update_mask "state").');
      const state = body.state;
      if (state !== 'ENABLED' && state !== 'DISABLED') throw new RpcError(grpc.status.INVALID_ARGUMENT, 'state must be ENABLED or DISABLED.');
      const { key, version } = versionOrThrow(stringField(body, 'name'));
      if (version.state === 'DESTROYED') throw new RpcError(grpc.status.FAILED_PRECONDITION, 'A destroyed version cannot change state.');
      version.state = state;
      return versionResource(key, version);
    }),
    updateCryptoKeyPrimaryVersion: rpc('UpdateCryptoKeyPrimaryVersion', (request) => {
      const id = Number(stringField(request, 'cryptoKeyVersionId'));
      if (!Number.isSafeInteger(id) || id < 1) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Invalid crypto_key_version_id.');
      return keyResource(setPrimaryVersion(stringField(request, 'name'), id));
    }),
    encrypt: rpc('Encrypt', encrypt),
    decrypt: rpc('Decrypt', decrypt),
    getPublicKey: rpc('GetPublicKey', getPublicKey),
    asymmetricDecrypt: rpc('AsymmetricDecrypt', asymmetricDecrypt),
  };

  const server = new grpc.Server();
  server.addService(kmsService(), implementation);
  const credentials = tls
    ? grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(tls.key), cert_chain: Buffer.from(tls.cert) }], false)
    : grpc.ServerCredentials.createInsecure();
  const bindHost = host.includes(':') ? `[${host}]` : host;
  const innerPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${bindHost}:0`, credentials, (err, boundPort) => (err ? reject(err) : resolve(boundPort))),
  );
  const relay = await startRelay(host, options.port ?? 0, innerPort);
  const port = relay.port;
  const caPem = tls ? tls.cert.toString() : undefined;

  // Test helpers speak in plain errors, not gRPC statuses.
  const plain = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw err instanceof RpcError ? new Error(err.details) : err;
    }
  };
  const plainAsync = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw err instanceof RpcError ? new Error(err.details) : err;
    }
  };

  return {
    url: `${tls ? 'https' : 'http'}://${bindHost}:${port}`,
    port,
    // gax joins host and port with ':', so an IPv6 address must come bracketed.
    endpoint: { apiEndpoint: bindHost, port },
    caPem,
    counters,
    faults,
    clientOptions() {
      let sslCreds: grpc.ChannelCredentials;
      if (caPem === undefined) {
        sslCreds = grpc.credentials.createInsecure();
      } else {
        const channel = grpc.credentials.createSsl(Buffer.from(caPem));
        const token = options.requireToken;
        sslCreds =
          token === undefined
            ? channel
            : grpc.credentials.combineChannelCredentials(
                channel,
                grpc.credentials.createFromMetadataGenerator((_params, cb) => {
                  const metadata = new grpc.Metadata();
                  metadata.add('authorization', `Bearer ${token}`);
                  cb(null, metadata);
                }),
              );
      }
      const base = { apiEndpoint: bindHost, port, sslCreds, universeDomain: 'googleapis.com' } as const;
      return caPem === undefined ? base : { ...base, 'grpc.ssl_target_name_override': 'localhost' };
    },
    createKeyRing: (parent, keyRingId) => plain(() => createKeyRing(parent, keyRingId)),
    createCryptoKey: (keyRingName, cryptoKeyId, opts) => plainAsync(async () => (await createCryptoKey(keyRingName, cryptoKeyId, opts)).name),
    createCryptoKeyVersion: (cryptoKeyName) =>
      plainAsync(async () => {
        const key = cryptoKeyOrThrow(cryptoKeyName);
        return `${key.name}/cryptoKeyVersions/${(await newVersion(key)).id}`;
      }),
    setPrimaryVersion: (cryptoKeyName, versionId) => void plain(() => setPrimaryVersion(cryptoKeyName, versionId)),
    rotate: (cryptoKeyName) =>
      plainAsync(async () => {
        const key = cryptoKeyOrThrow(cryptoKeyName);
        const version = await newVersion(key);
        if (key.purpose === 'ENCRYPT_DECRYPT') key.primary = version.id;
        return `${key.name}/cryptoKeyVersions/${version.id}`;
      }),
    setVersionState: (versionName, state) =>
      plain(() => {
        const { version } = versionOrThrow(versionName);
        version.state = state;
      }),
    publicKeyPem: (versionName) =>
      plain(() => {
        const { version } = versionOrThrow(versionName);
        if (version.publicKeyPem === undefined) throw new RpcError(grpc.status.FAILED_PRECONDITION, `${versionName} has no public key.`);
        return version.publicKeyPem;
      }),
    tamperNextResponse(operation, mutate) {
      tampers.push({ operation, mutate });
    },
    close: async () => {
      server.forceShutdown();
      await relay.close();
    },
  };
}

