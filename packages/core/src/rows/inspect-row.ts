import { assertRow, classifyCells } from '../lib/rows/cells.js';
import { assertRowLayout, type RowLayout } from './layout.js';

/** What {@link inspectRow} reports. */
export interface RowInspection {
  /**
   * `empty`: no header, every sealed column NULL. `plaintext`: no header, some column holds a value.
   * `sealed`: a header, and every non-NULL sealed column holds a ciphertext. `mixed`: a header, and
   * some sealed column holds a value that is not a ciphertext (written around fieldseal, or during
   * a migration).
   */
  readonly state: 'empty' | 'plaintext' | 'sealed' | 'mixed';
  /** Database names of the sealed columns that hold a field ciphertext. */
  readonly sealedColumns: readonly string[];
  /** Database names of the sealed columns that hold something else (plaintext). */
  readonly plaintextColumns: readonly string[];
}

/**
 * Classifies a row against its layout without any key: which sealed columns hold ciphertext,
 * which hold plaintext. Used by seal-in-place migrations to find what is left to seal. It does not
 * authenticate anything: a `sealed` row may still fail {@link openRow}.
 *
 * Importable from `@fieldseal/core`.
 */
export function inspectRow(row: Record<string, unknown>, layout: RowLayout): RowInspection {
  assertRowLayout(layout);
  assertRow(row);
  const { cells, header } = classifyCells(row, layout);
  const sealedColumns = cells.filter((c) => c.state === 'sealed').map((c) => c.column.name);
  const plaintextColumns = cells.filter((c) => c.state === 'plaintext').map((c) => c.column.name);
  const state = header === undefined ? (sealedColumns.length + plaintextColumns.length === 0 ? 'empty' : 'plaintext') : plaintextColumns.length > 0 ? 'mixed' : 'sealed';
  return { state, sealedColumns, plaintextColumns };
}
