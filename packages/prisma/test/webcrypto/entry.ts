// Bundled by webcrypto.test.ts without the "node" export condition, so @fieldseal/core runs on its
// WebCrypto backend (as on an edge runtime); Prisma, its pg adapter and the generated client stay
// external Node code. Writes a row, reads one the test wrote, and prints what it saw.
import { PrismaPg } from '@prisma/adapter-pg';
import { BeaconIndex, BeaconKey, LocalKeyring } from '@fieldseal/core';
import { fieldseal } from '../../src/index.js';
import { PrismaClient } from '../generated/client.js';
import { models } from './models.js';

const input = JSON.parse(process.argv[2]!) as { url: string; schema: string; keyFile: unknown; beaconKey: unknown; readId: string };
const keyring = LocalKeyring.fromKeyFile(input.keyFile as never);
const key = await BeaconKey.load(input.beaconKey as never, { keyring });
const beacons = new BeaconIndex({ keys: key, fields: { 'User.email': { bits: 2, allowUnsafeLength: true, normalize: 'email' } } });
const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: input.url }, { schema: input.schema }) });
const prisma = base.$extends(fieldseal({ keyring, beacons, models: models() }));
try {
  const written = await prisma.user.create({ data: { tenantId: 'edge', name: 'edge', email: 'edge@example.com', ssn: 'edge-ssn', posts: { create: [{ title: 'e', body: 'edge body' }] } }, include: { posts: true } });
  const read = await prisma.user.findUnique({ where: { id: input.readId }, include: { posts: true } });
  const byBeacon = await prisma.user.findMany({ where: { email: 'edge@example.com' } });
  console.log(JSON.stringify({ written, read, byBeacon: byBeacon.map((u) => u.id) }));
} finally {
  await base.$disconnect();
}
