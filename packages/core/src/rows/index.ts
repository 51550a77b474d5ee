export { defineRowLayout, type RowLayout, type RowLayoutSpec, type RowColumnRef, type SealedColumnSpec, type RowLayoutColumn, type RowLayoutBinding, type ColumnCodec } from './layout.js';
export { sealRow, sealRows, type SealRowOptions, type RowKeyrings } from './seal-row.js';
export { openRow, openRows, type OpenRowOptions } from './open-row.js';
export { resealRow } from './reseal-row.js';
export { inspectRow, type RowInspection } from './inspect-row.js';
