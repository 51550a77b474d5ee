/** Plain JSON containers (parsed JSON and fieldseal's output): safe to walk instead of handing to JSON.stringify. */
function container(value: unknown): value is Record<string, unknown> | unknown[] {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return Object.getPrototypeOf(value) === Array.prototype;
  const proto = Object.getPrototypeOf(value) as unknown;
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * The text of `JSON.stringify(value, null, 2)`, in pieces: containers are walked to `depth`
 * levels and everything below is stringified one value at a time, so a large document is never
 * held twice more as one output string and its encoded buffer.
 */
export function* prettyJsonChunks(value: unknown, depth = 3, pad = ''): Generator<string> {
  if (depth === 0 || !container(value)) {
    const text = JSON.stringify(value, null, 2);
    yield pad === '' || text === undefined ? (text ?? 'null') : text.replace(/\n/g, `\n${pad}`);
    return;
  }
  const inner = `${pad}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) {
      yield '[]';
      return;
    }
    yield '[';
    for (let i = 0; i < value.length; i++) {
      yield `${i === 0 ? '' : ','}\n${inner}`;
      const v = value[i];
      // As JSON.stringify: an array slot that cannot be serialized is null.
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') yield 'null';
      else yield* prettyJsonChunks(v, depth - 1, inner);
    }
    yield `\n${pad}]`;
    return;
  }
  let first = true;
  for (const key of Object.keys(value)) {
    const v = value[key];
    // As JSON.stringify: such members are left out.
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    yield `${first ? '{' : ','}\n${inner}${JSON.stringify(key)}: `;
    first = false;
    yield* prettyJsonChunks(v, depth - 1, inner);
  }
  yield first ? '{}' : `\n${pad}}`;
}
