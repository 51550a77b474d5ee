// A worker-thread setup module for runRotation's `workers` option whose transform is the verified
// rewrap floor (lib/floor.mjs) instead of fieldseal: what the same store, engine and threads reach
// when each record costs only the cryptography a verified rewrap requires. Used by
// packages/rotation/scripts/postgres-bench.mjs --floor. data = { kekFrom, kekTo (hex), header, fields }.
import { makeRewrapFloor } from './floor.mjs';

export default function setup(data) {
  const floor = makeRewrapFloor({ kekFrom: Buffer.from(data.kekFrom, 'hex'), kekTo: Buffer.from(data.kekTo, 'hex') });
  // The JSON-column record's third value is inside an array (`cards[0]`); a row's are all columns.
  const fields = data.fields.map((f) => (f === 'cards[0]' ? (doc) => doc.cards[0] : f));
  return {
    transform: async (document) => ({ document: floor.rewrapDocument(document, data.header, fields), changed: true }),
    keysOf: () => [],
  };
}
