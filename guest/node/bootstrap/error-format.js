// Errors: SpiderMonkey stacks ("fn@file:line:col") mapped through the bundle's source map back
// to the user's files, printed the way Node prints them.

import { entryName, WRAPPER } from './entry.js';
import { mapPosition } from './source-map.js';

export function formatError(e) {
  if (!(e instanceof Error)) {
    let shown;
    try {
      shown = typeof e === 'string' ? e : JSON.stringify(e);
    } catch {
      shown = String(e);
    }
    return `Uncaught ${shown}`;
  }
  const head = `${e.name || 'Error'}: ${e.message}`;
  const frames = [];
  for (const line of String(e.stack || '').split('\n')) {
    const m = /^(.*?)@(.*):(\d+):(\d+)$/.exec(line);
    if (!m || m[2] !== entryName) continue; // runtime frames are not the user's concern
    let lineNo = Number(m[3]);
    let col = Number(m[4]);
    if (lineNo === 1) col = Math.max(1, col - WRAPPER.length);
    const pos = mapPosition(lineNo, col - 1);
    const where = pos ? `${pos.source}:${pos.line}:${pos.column + 1}` : `${entryName}:${lineNo}:${col}`;
    const fn = m[1].replace(/\/<$/, '').replace(/^async\*/, '');
    frames.push(fn && !fn.startsWith('@') ? `    at ${fn} (${where})` : `    at ${where}`);
  }
  const cause = e.cause !== undefined ? `\n  [cause]: ${e.cause instanceof Error ? formatError(e.cause) : String(e.cause)}` : '';
  return [head, ...frames].join('\n') + cause;
}

/**
 * An error the engine raised while loading the bundle (a SyntaxError) has no stack frame of the
 * bundle, only its line and column: made a frame, formatError maps it back to the user's file.
 */
export function atLoadPosition(e) {
  if (!(e instanceof Error) || typeof e.lineNumber !== 'number') return e;
  Object.defineProperty(e, 'stack', { value: `@${entryName}:${e.lineNumber}:${Number(e.columnNumber) || 1}\n`, configurable: true, writable: true });
  return e;
}
