// Prints one request log line in each mode: node examples/server-api/log-demo.mjs (after npm run build).
import { randomBytes } from 'node:crypto';
import { LocalKeyring } from '@fieldseal/core';
import { requestLogger } from './logging.mjs';

const record = { name: 'Ada', email: 'ada@example.com', ssn: '078-05-1120', cards: [{ number: '4111111111111111', exp: '12/30' }] };
const line = { method: 'POST', url: '/tenants/acme/customers', status: 201, tenant: 'acme', record };

// Throwaway keys for the demo; a service loads its log keyring and beacon key from its secret store.
const keyring = await LocalKeyring.generate({ name: 'logs' });
for (const mode of ['censor', 'beacon', 'seal']) {
  process.stdout.write(`${mode}: `);
  const logger = requestLogger({ mode, destination: process.stdout, beaconKey: randomBytes(32), keyring });
  logger.info(line, 'customer created');
  if (mode === 'seal') await new Promise((resolve) => setTimeout(resolve, 50));
}
