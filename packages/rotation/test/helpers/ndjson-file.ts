import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { JsonObject } from '@fieldseal/core';

/** Write `count` lines cycling through `docs` (a few distinct sealed documents make a big file fast). */
export async function writeRepeated(path: string, docs: readonly JsonObject[], count: number): Promise<void> {
  const lines = docs.map((d) => JSON.stringify(d) + '\n');
  const out = createWriteStream(path);
  for (let i = 0; i < count; i++) if (!out.write(lines[i % lines.length]!)) await once(out, 'drain');
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}
