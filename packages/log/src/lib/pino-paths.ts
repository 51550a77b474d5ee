import type { SelectorSegment } from '@fieldseal/core';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
// Names pino's path parser reads reliably inside brackets: no quotes, backslashes or brackets.
const BRACKETABLE = /^[^"'\\[\]]+$/;
const MAX_EXPANSION = 64;

/**
 * pino `redact` paths that select exactly what a selector selects, or `undefined` when pino's
 * syntax cannot say it (descendant segments, negative indices, names pino cannot quote, large
 * unions): those go to the slower walker, never dropped.
 */
export function toPinoPaths(segments: readonly SelectorSegment[]): string[] | undefined {
  let paths = [''];
  for (const segment of segments) {
    if (segment.descendant) return undefined;
    const next: string[] = [];
    for (const prefix of paths) {
      for (const step of segment.selectors) {
        const first = prefix === '';
        if (step.kind === 'wildcard') next.push(first ? '*' : `${prefix}[*]`);
        else if (step.kind === 'index') {
          if (step.index < 0 || first) return undefined;
          next.push(`${prefix}[${step.index}]`);
        } else if (IDENTIFIER.test(step.name)) next.push(first ? step.name : `${prefix}.${step.name}`);
        else if (BRACKETABLE.test(step.name)) next.push(`${prefix}["${step.name}"]`);
        else return undefined;
      }
    }
    if (next.length > MAX_EXPANSION) return undefined;
    paths = next;
  }
  return paths.length > 0 && !paths.includes('') ? paths : undefined;
}
