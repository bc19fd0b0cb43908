// The bundle's source map (version 3: sources and mappings), which error-format.js maps
// SpiderMonkey's stack frames through. Read and parsed when an error first needs it, not at
// start: a large bundle's map is megabytes of JSON, which every start would pay for.

let sourceMap;
let readMap;

/** How to read the map that came with the bundle (bytes, or nothing), when it is needed. */
export function setSourceMapReader(reader) {
  readMap = reader;
  sourceMap = undefined;
}

function loadSourceMap() {
  const reader = readMap;
  readMap = undefined;
  const bytes = reader?.();
  if (!bytes) return;
  try {
    sourceMap = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    sourceMap = undefined; // one that does not parse is left out
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function decodeMappings(mappings) {
  const lines = [];
  let src = 0;
  let oLine = 0;
  let oCol = 0;
  for (const lineText of mappings.split(';')) {
    const segs = [];
    let gCol = 0;
    for (const seg of lineText.split(',')) {
      if (!seg) continue;
      const values = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const digit = B64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      gCol += values[0];
      if (values.length >= 4) {
        src += values[1];
        oLine += values[2];
        oCol += values[3];
        segs.push([gCol, src, oLine, oCol]);
      }
    }
    lines.push(segs);
  }
  return lines;
}

export function mapPosition(line, col) {
  if (readMap) loadSourceMap();
  if (!sourceMap) return undefined;
  if (!sourceMap.lines) sourceMap.lines = decodeMappings(sourceMap.mappings || '');
  const segs = sourceMap.lines[line - 1];
  if (!segs || segs.length === 0) return undefined;
  let best = segs[0];
  for (const s of segs) if (s[0] <= col) best = s;
  return { source: sourceMap.sources[best[1]], line: best[2] + 1, column: best[3] };
}
