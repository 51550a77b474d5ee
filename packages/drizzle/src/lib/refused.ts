import { UnsupportedQueryError } from '@fieldseal/core';

/** The error of every refusal. `field` is the column's database name; no message holds a value. */
export function refused(message: string, column?: string): UnsupportedQueryError {
  return new UnsupportedQueryError(message, column === undefined ? {} : { field: column });
}
