import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodeVault from 'node-vault';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { context as otelContext, metrics, trace, SpanStatusCode } from '@opentelemetry/api';
import { createBranchKey, decrypt, destroyBranchKey, encrypt, HierarchicalKeyring, LocalKeyring, rewrapBranchKeys, rotateBranchKey, type BranchKeyStore, type KeyAccessEvent } from '@fieldseal/core';
import { AwsKmsKeyring } from '@fieldseal/aws-kms';
import { VaultTransitKeyring } from '@fieldseal/vault-transit';
import { startAwsKmsEmulator, startAzureKeyVaultEmulator, startGcpKmsEmulator, startVaultTransitEmulator, type AwsKmsEmulator, type AzureKeyVaultEmulator, type GcpKmsEmulator, type VaultTransitEmulator } from '@fieldseal/emulators';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { GcpKmsKeyring } from '@fieldseal/gcp-kms';
import { AzureKeyVaultKeyring } from '@fieldseal/azure-keyvault';
import { insecureClientOptions, rsaKeys, staticCredential } from '../../azure-keyvault/test/helpers.js';
import { createOtelAuditHook, FileBranchKeyStore, PostgresBranchKeyStore } from '@fieldseal/keystore';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dir = mkdtempSync(join(tmpdir(), 'fieldseal-keystore-'));
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
const table = `fs_bk_${process.pid}_${randomBytes(3).toString('hex')}`;
let n = 0;

afterAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  await pool.end();
  rmSync(dir, { recursive: true, force: true });
});

const stores: [string, () => Promise<BranchKeyStore>][] = [
  ['file', async () => new FileBranchKeyStore(join(dir, `store-${++n}.json`))],
  ['postgres', async () => {
    const s = new PostgresBranchKeyStore({ pool, table });
    await s.migrate();
    return s;
  }],
];
const doc = { id: 1, ssn: '078-05-1120' };

for (const [name, make] of stores) {
  describe(`${name} branch key store`, () => {
    test('create, rotate, list, and every document keeps opening', async () => {
      const store = await make();
      const kek = await LocalKeyring.generate({ name: 'kek' });
      const tenant = `t-${randomBytes(4).toString('hex')}`;
      await createBranchKey({ store, kek, branchKeyId: tenant });
      const keyring = new HierarchicalKeyring({ store, kek, branchKeyId: { contextKey: 'tenant' } });
      const v1 = await encrypt(doc, { keyring, paths: ['$.ssn'], context: { tenant } });
      await rotateBranchKey({ store, kek, branchKeyId: tenant });
      keyring.clear();
      const v2 = await encrypt(doc, { keyring, paths: ['$.ssn'], context: { tenant } });
      const mine = (await store.list()).filter((r) => r.branchKeyId === tenant);
      expect(mine.map((r) => [r.version, r.state])).toEqual([[1, 'retired'], [2, 'active']]);
      for (const s of [v1, v2]) expect(await decrypt(s, { keyring, context: { tenant } })).toEqual(doc);
    });

    test('compare-and-swap: concurrent rotations, one winner; a second create refused; a stale rewrap refused', async () => {
      const store = await make();
      const kek = await LocalKeyring.generate({ name: 'kek' });
      const id = `cas-${randomBytes(4).toString('hex')}`;
      await createBranchKey({ store, kek, branchKeyId: id });
      const results = await Promise.allSettled(Array.from({ length: 4 }, () => rotateBranchKey({ store, kek, branchKeyId: id })));
      // Rotations that read the same active version race: one wins, the others fail typed. Those
      // that read a newer version are later rotations. Either way: contiguous versions, one active.
      const won = results.filter((r) => r.status === 'fulfilled').length;
      expect(won).toBeGreaterThanOrEqual(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
      const versions = (await store.list()).filter((r) => r.branchKeyId === id);
      expect(versions.map((r) => r.version)).toEqual(Array.from({ length: won + 1 }, (_, i) => i + 1));
      expect(versions.filter((r) => r.state === 'active').map((r) => r.version)).toEqual([won + 1]);
      await expect(createBranchKey({ store, kek, branchKeyId: id })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
      const record = (await store.getVersion(id, 1))!;
      const other = [{ provider: 'local', keyId: 'x/v1', ciphertext: new Uint8Array([1, 2, 3]) }];
      expect(await store.replaceWrapped(id, 1, other, other)).toBe(false);
      expect(await store.replaceWrapped(id, 1, record.wrapped, other)).toBe(true);
      expect((await store.getVersion(id, 1))!.wrapped[0]!.keyId).toBe('x/v1');
    });

    test('crypto-shredding one tenant: its documents fail with a typed error, the other tenant opens; two processes see the same keys', async () => {
      const store = await make();
      const kek = await LocalKeyring.generate({ name: 'kek' });
      const [a, b] = [`a-${randomBytes(3).toString('hex')}`, `b-${randomBytes(3).toString('hex')}`];
      for (const t of [a, b]) await createBranchKey({ store, kek, branchKeyId: t });
      const keyring = new HierarchicalKeyring({ store, kek, branchKeyId: { contextKey: 'tenant' } });
      const sa = await encrypt(doc, { keyring, paths: ['$.ssn'], context: { tenant: a } });
      const sb = await encrypt(doc, { keyring, paths: ['$.ssn'], context: { tenant: b } });
      // Another process with the same store and KEK opens both documents.
      expect(openInChildProcess(name, store, kek, [sa, sb], [a, b])).toEqual(['ok', 'ok']);
      expect(await destroyBranchKey({ store, branchKeyId: a })).toBe(1);
      keyring.clear();
      await expect(decrypt(sa, { keyring, context: { tenant: a } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE' });
      expect(await decrypt(sb, { keyring, context: { tenant: b } })).toEqual(doc);
      expect(openInChildProcess(name, store, kek, [sa, sb], [a, b])).toEqual(['ERR_FIELDSEAL_KEY_UNAVAILABLE', 'ok']);
    });
  });
}

/** Open documents in a separate Node process sharing the store; returns 'ok' or the error code per document. */
function openInChildProcess(kind: string, store: BranchKeyStore, kek: LocalKeyring, docs: object[], tenants: string[]): string[] {
  const keyFile = join(dir, `kek-${++n}.json`);
  writeFileSync(keyFile, JSON.stringify(kek.exportKeyFile()), { mode: 0o600 });
  const core = fileURLToPath(new URL('../../core/dist/index.js', import.meta.url));
  const keystore = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const storeExpr = kind === 'file' ? `new FileBranchKeyStore(${JSON.stringify((store as FileBranchKeyStore).path)})` : `new PostgresBranchKeyStore({ pool: new pg.Pool({ connectionString: ${JSON.stringify(DATABASE_URL)} }), table: ${JSON.stringify(table)} })`;
  const script = `
    import { readFileSync } from 'node:fs';
    import pg from 'pg';
    import { decrypt, HierarchicalKeyring, LocalKeyring } from ${JSON.stringify(core)};
    import { FileBranchKeyStore, PostgresBranchKeyStore } from ${JSON.stringify(keystore)};
    const store = ${storeExpr};
    const kek = LocalKeyring.fromKeyFile(readFileSync(${JSON.stringify(keyFile)}, 'utf8'));
    const keyring = new HierarchicalKeyring({ store, kek, branchKeyId: { contextKey: 'tenant' } });
    const docs = ${JSON.stringify(docs)};
    const tenants = ${JSON.stringify(tenants)};
    const out = [];
    for (let i = 0; i < docs.length; i++) out.push(await decrypt(docs[i], { keyring, context: { tenant: tenants[i] } }).then(() => 'ok', (e) => e.code));
    console.log(JSON.stringify(out));
    process.exit(0);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)) });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

describe('file store details', () => {
  test('the file is written with mode 0600 and holds no branch key in the clear', async () => {
    const store = new FileBranchKeyStore(join(dir, 'mode.json'));
    const kek = await LocalKeyring.generate();
    await createBranchKey({ store, kek, branchKeyId: 'x' });
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
  });

  test('a corrupt store file is a typed error', async () => {
    const path = join(dir, 'corrupt.json');
    writeFileSync(path, '{"type":"something-else"}');
    await expect(new FileBranchKeyStore(path).list()).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_MALFORMED' });
    writeFileSync(path, 'not json');
    await expect(new FileBranchKeyStore(path).getActive('x')).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_MALFORMED' });
  });
});

describe('branch keys wrapped by KMS keyrings through their emulators', () => {
  let aws: AwsKmsEmulator;
  let vault: VaultTransitEmulator;
  let gcp: GcpKmsEmulator;
  let azure: AzureKeyVaultEmulator;
  beforeAll(async () => {
    aws = await startAwsKmsEmulator();
    vault = await startVaultTransitEmulator();
    gcp = await startGcpKmsEmulator();
    azure = await startAzureKeyVaultEmulator();
  });
  afterAll(async () => {
    await aws.close();
    await vault.close();
    await gcp.close();
    await azure.close();
  });

  test('Cloud KMS and Azure Key Vault as KEK: branch keys created under one, rewrapped to the other, documents open throughout', async () => {
    const client = new KeyManagementServiceClient(gcp.clientOptions());
    const ring = gcp.createKeyRing('projects/p/locations/europe-west1', 'branch');
    const gcpKek = new GcpKmsKeyring({ keyName: await gcp.createCryptoKey(ring, 'branch-kek'), client });
    const store = new FileBranchKeyStore(join(dir, 'gcp-azure.json'));
    for (const t of ['acme', 'globex']) await createBranchKey({ store, kek: gcpKek, branchKeyId: t });
    const keyring = new HierarchicalKeyring({ store, kek: gcpKek, branchKeyId: { contextKey: 'tenant' } });
    const sealed = [];
    for (let i = 0; i < 40; i++) sealed.push(await encrypt({ i, ssn: '078-05-1120' }, { keyring, paths: ['$.ssn'], context: { tenant: i % 2 ? 'acme' : 'globex' } }));
    expect(keyring.stats.kekCalls).toBe(2);

    const { version } = await azure.createKey('branch-kek', { privateKey: rsaKeys()[0]! });
    const azureKek = new AzureKeyVaultKeyring({ keyId: azure.keyId('branch-kek', version), credential: staticCredential(), clientOptions: insecureClientOptions, retry: { maxRetries: 0 } });
    expect(await rewrapBranchKeys({ store, from: gcpKek, to: azureKek })).toEqual({ rewrapped: 2, conflicts: 0 });
    const afterRotation = new HierarchicalKeyring({ store, kek: azureKek, branchKeyId: { contextKey: 'tenant' } });
    for (let i = 0; i < 40; i++) expect((await decrypt(sealed[i]!, { keyring: afterRotation, context: { tenant: i % 2 ? 'acme' : 'globex' } })).ssn).toBe('078-05-1120');
    expect(afterRotation.stats.kekCalls).toBe(2);
    await gcpKek.close?.();
    await client.close();
  });

  test('AWS KMS and Vault transit as KEK: one KMS call per branch key, none per document; KEK rotation rewraps branch keys only', async () => {
    const awsKey = await aws.createKey({ alias: 'alias/branch-keys' });
    const awsKek = new AwsKmsKeyring({ keyIds: [awsKey.arn], region: aws.region, endpoint: aws.url, credentials: aws.credentials, maxAttempts: 1 });
    const store = new FileBranchKeyStore(join(dir, 'kms.json'));
    await createBranchKey({ store, kek: awsKek, branchKeyId: 'acme' });
    const before = aws.counters.total();
    const keyring = new HierarchicalKeyring({ store, kek: awsKek, branchKeyId: 'acme' });
    const sealed = [];
    for (let i = 0; i < 100; i++) sealed.push(await encrypt({ i, ssn: '078-05-1120' }, { keyring, paths: ['$.ssn'], requiredContext: { rowId: String(i) } }));
    for (let i = 0; i < 100; i++) await decrypt(sealed[i]!, { keyring, context: { rowId: String(i) } });
    expect(keyring.stats.kekCalls).toBe(1);
    expect(aws.counters.total() - before).toBe(1);

    vault.createKey('branch-keys', { derived: true });
    const vaultKek = new VaultTransitKeyring({ client: nodeVault({ apiVersion: 'v1', endpoint: vault.url, token: vault.token }), keyName: 'branch-keys' });
    expect(await rewrapBranchKeys({ store, from: awsKek, to: vaultKek })).toEqual({ rewrapped: 1, conflicts: 0 });
    const afterRotation = new HierarchicalKeyring({ store, kek: vaultKek, branchKeyId: 'acme' });
    for (let i = 0; i < 100; i++) expect((await decrypt(sealed[i]!, { keyring: afterRotation, context: { rowId: String(i) } })).ssn).toBe('078-05-1120');
    expect(afterRotation.stats.kekCalls).toBe(1);
  });
});

describe('OpenTelemetry audit hook', () => {
  test('every key access becomes a span with attributes and no secret; absent context values stay absent', async () => {
    const spans: { name: string; attributes: Record<string, unknown>; status?: { code: number } }[] = [];
    // A minimal tracer provider, registered through the real @opentelemetry/api.
    trace.setGlobalTracerProvider({
      getTracer: () => ({
        startSpan: (name: string, options?: { attributes?: Record<string, unknown> }) => {
          const span = { name, attributes: { ...(options?.attributes ?? {}) }, status: undefined as { code: number } | undefined };
          spans.push(span);
          return { setStatus: (s: { code: number }) => void (span.status = s), end: () => undefined, setAttribute: () => undefined, spanContext: () => ({ traceId: '0', spanId: '0', traceFlags: 0 }), isRecording: () => true } as never;
        },
        startActiveSpan: () => undefined as never,
      }),
    } as never);
    const onEvent = await createOtelAuditHook();
    const events: KeyAccessEvent[] = [];
    const store = new FileBranchKeyStore(join(dir, 'otel.json'));
    const kek = await LocalKeyring.generate();
    await createBranchKey({ store, kek, branchKeyId: 'acme' });
    const keyring = new HierarchicalKeyring({ store, kek, branchKeyId: { contextKey: 'tenant' }, audit: { onEvent: (e) => (events.push(e), onEvent(e)), contextValues: ['tenant'] } });
    const sealed = await encrypt(doc, { keyring, paths: ['$.ssn'], context: { tenant: 'acme' }, requiredContext: { rowId: 'r-secret-1' } });
    await decrypt(sealed, { keyring, context: { tenant: 'acme', rowId: 'r-secret-1' } });
    expect(spans.map((s) => s.name)).toEqual(['fieldseal.branch-key-load', 'fieldseal.wrap', 'fieldseal.unwrap']);
    expect(spans[1]!.attributes).toMatchObject({ 'fieldseal.keyring': 'fieldseal-hierarchy', 'fieldseal.key_ids': ['acme/v1'], 'fieldseal.context_keys': ['fieldseal.group', 'rowId', 'tenant'], 'fieldseal.context.tenant': 'acme', 'fieldseal.outcome': 'success' });
    expect(spans.every((s) => s.status?.code === SpanStatusCode.OK)).toBe(true);
    expect(JSON.stringify(spans)).not.toContain('r-secret-1');
    expect(JSON.stringify(spans)).not.toContain('078-05');
    expect(events).toHaveLength(3);
    trace.disable();
    expect(metrics).toBeDefined();
    expect(otelContext).toBeDefined();
  });
});
