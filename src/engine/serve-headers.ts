/**
 * The prefix a serving worker gives the second and later headers of one name, so that they pass
 * preview2-shim's server (which keeps one value a name); fabricks' listener restores them.
 */
export const REPEATED = 'x-fabricks-repeated-';

const RENAMED = new RegExp(`^${REPEATED}\\d+-(.+)$`, 'i');

/** Raw header pairs with renamed repeats given their names back. */
export function restoreRepeated(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) out.push(RENAMED.exec(raw[i]!)?.[1] ?? raw[i]!, raw[i + 1]!);
  return out;
}
