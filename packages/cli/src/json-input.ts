import { MalformedError, type JsonObject } from '@fieldseal/core';

/** Parse one JSON document; never echo the text (it may be plaintext PII). */
export function parseJsonDocument(text: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MalformedError('input is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new MalformedError('input must be a JSON object');
  return value as JsonObject;
}
