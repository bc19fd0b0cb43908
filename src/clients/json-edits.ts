import { applyEdits, createScanner, SyntaxKind, type Edit, type Node } from 'jsonc-parser';

/**
 * Text edits to a JSON (or JSONC) document that touch only the property they are about: a new
 * property goes after the last one on lines of its own, a replaced value keeps its place, and a
 * removed property takes its own lines (and its comma) with it. Every other byte, comments and
 * the user's own layout included, stays as it was. (jsonc-parser's `modify` finds the same places,
 * but with formatting on it re-formats the lines it touches, a neighbour written on one line
 * included, and with it off it writes the new entry as one long line.)
 */

/** How the document is laid out: its indentation unit and line ending. */
export interface Layout {
  indent: string;
  eol: string;
}

export function layoutOf(text: string): Layout {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indents = [...text.matchAll(/\n([ \t]+)["{}[\]]/g)].slice(0, 200).map((m) => m[1]!);
  if (indents.some((i) => i.startsWith('\t'))) return { indent: '\t', eol };
  const spaces = indents.map((i) => i.length).filter((n) => n > 0);
  return { indent: ' '.repeat(spaces.length ? Math.min(...spaces, 8) : 2), eol };
}

/** The value as it is written on lines of its own, continuation lines indented by `indent`. */
function block(value: unknown, indent: string, layout: Layout): string {
  return JSON.stringify(value, null, layout.indent).split('\n').join(layout.eol + indent);
}

/** The value on one line, spaced as people write it (`["run", "x"]`, `{ "a": 1 }`). */
export function inline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length ? `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${inline(v)}`).join(', ')} }` : '{}';
  }
  return JSON.stringify(value);
}

const lineStart = (text: string, pos: number) => text.lastIndexOf('\n', pos - 1) + 1;
const indentAt = (text: string, pos: number) => /^[ \t]*/.exec(text.slice(lineStart(text, pos)))![0];
/** Whether only spaces stand before `pos` on its line. */
const startsLine = (text: string, pos: number) => text.slice(lineStart(text, pos), pos).trim() === '';

/**
 * What follows `pos` on its line: a comma if that is the next token, and, when nothing but
 * spaces and comments follow (after that comma), where the line break starts and ends.
 */
function rest(text: string, pos: number): { comma?: number; breakAt?: number; breakEnd?: number } {
  const scanner = createScanner(text, false);
  scanner.setPosition(pos);
  let comma: number | undefined;
  for (;;) {
    const kind = scanner.scan();
    const at = scanner.getTokenOffset();
    if (kind === SyntaxKind.Trivia || kind === SyntaxKind.LineCommentTrivia || kind === SyntaxKind.BlockCommentTrivia) continue;
    if (kind === SyntaxKind.CommaToken && comma === undefined) {
      comma = at;
      continue;
    }
    const found = comma === undefined ? {} : { comma };
    if (kind === SyntaxKind.LineBreakTrivia) return { ...found, breakAt: at, breakEnd: at + scanner.getTokenLength() };
    if (kind === SyntaxKind.EOF) return { ...found, breakAt: text.length, breakEnd: text.length };
    return found;
  }
}

/** The offset of the comma between the end of the property before `index` and that property, if there is one. */
function commaBefore(text: string, object: Node, index: number): number | undefined {
  if (index === 0) return undefined;
  const prev = object.children![index - 1]!;
  return rest(text, prev.offset + prev.length).comma ?? firstComma(text, prev.offset + prev.length, object.children![index]!.offset);
}

function firstComma(text: string, from: number, to: number): number | undefined {
  const scanner = createScanner(text, false);
  scanner.setPosition(from);
  while (scanner.getPosition() < to) {
    const kind = scanner.scan();
    if (kind === SyntaxKind.CommaToken) return scanner.getTokenOffset();
    if (kind === SyntaxKind.EOF) break;
  }
  return undefined;
}

/** Adds `"key": value` as the last property of `object` (a node of jsonc-parser's tree of `text`). */
export function insertProperty(text: string, object: Node, key: string, value: unknown, layout: Layout): Edit[] {
  const props = object.children ?? [];
  const last = props.at(-1);
  if (!last) {
    const outer = indentAt(text, object.offset);
    const inner = outer + layout.indent;
    const open = object.offset + 1;
    const between = text.slice(open, object.offset + object.length - 1);
    const prop = `${JSON.stringify(key)}: ${block(value, inner, layout)}`;
    // an empty {} becomes a block; comments inside it stay after the new property
    return between.trim() === ''
      ? [{ offset: open, length: between.length, content: `${layout.eol}${inner}${prop}${layout.eol}${outer}` }]
      : [{ offset: open, length: 0, content: `${layout.eol}${inner}${prop}` }];
  }
  const end = last.offset + last.length;
  const after = rest(text, end);
  if (startsLine(text, last.offset) && after.breakAt !== undefined) {
    // properties on lines of their own: a new line after the last one's (after its comment, if any)
    const inner = indentAt(text, last.offset);
    const line = `${layout.eol}${inner}${JSON.stringify(key)}: ${block(value, inner, layout)}`;
    // a file that ends its last property with a comma (JSONC) gets the new one written the same way
    if (after.comma !== undefined) return [{ offset: after.breakAt, length: 0, content: `${line},` }];
    return [
      { offset: end, length: 0, content: ',' },
      { offset: after.breakAt, length: 0, content: line },
    ];
  }
  // properties written on one line: the new one joins them
  const prop = `${JSON.stringify(key)}: ${inline(value)}`;
  return after.comma === undefined ? [{ offset: end, length: 0, content: `, ${prop}` }] : [{ offset: after.comma + 1, length: 0, content: ` ${prop}` }];
}

/** Replaces a value (a node of the tree of `text`): on one line if the old one was, else as a block at its property's indentation. */
export function replaceValue(text: string, node: Node, value: unknown, layout: Layout): Edit[] {
  const old = text.slice(node.offset, node.offset + node.length);
  const content = old.includes('\n') ? block(value, indentAt(text, node.offset), layout) : inline(value);
  return content === old ? [] : [{ offset: node.offset, length: node.length, content }];
}

/** Removes the property at `index` of `object`: its own lines if it has them (its trailing comment too), and the comma that joined it to the others. */
export function removeProperty(text: string, object: Node, index: number): Edit[] {
  const prop = object.children![index]!;
  const end = prop.offset + prop.length;
  const after = rest(text, end);
  const edits = removeOnly(text, object, index, prop, end, after);
  if (object.children!.length === 1) {
    // the last one gone, an object left with nothing but spaces inside is written {} again
    const open = object.offset + 1;
    const close = object.offset + object.length - 1;
    const result = applyEdits(text, edits);
    const left = result.slice(open, close + result.length - text.length);
    if (left.trim() === '') return [{ offset: open, length: close - open, content: '' }];
  }
  return edits;
}

function removeOnly(text: string, object: Node, index: number, prop: Node, end: number, after: ReturnType<typeof rest>): Edit[] {
  const edits: Edit[] = [];
  if (startsLine(text, prop.offset) && after.breakEnd !== undefined) {
    const from = lineStart(text, prop.offset);
    edits.push({ offset: from, length: after.breakEnd - from, content: '' });
    if (after.comma === undefined) {
      const before = commaBefore(text, object, index);
      if (before !== undefined) edits.push({ offset: before, length: 1, content: '' });
    }
    return edits;
  }
  if (after.comma !== undefined) {
    const next = /^[ \t]*/.exec(text.slice(after.comma + 1))![0].length;
    return [{ offset: prop.offset, length: after.comma + 1 + next - prop.offset, content: '' }];
  }
  const before = commaBefore(text, object, index);
  return before === undefined ? [{ offset: prop.offset, length: end - prop.offset, content: '' }] : [{ offset: before, length: end - before, content: '' }];
}
