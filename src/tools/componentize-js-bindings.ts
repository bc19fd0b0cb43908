/**
 * What fabricks adds to the JavaScript bindings componentize-js 0.23 generates, right after they
 * take the engine's functions (`$realloc`, `$dealloc` and the imports' core functions):
 *
 * - Each import frees what was lowered for its arguments once the host has copied it. The
 *   bindings lower `list` and `string` arguments into memory from `cabi_realloc` and never free
 *   them (the canonical ABI leaves that to the caller), so every byte a program wrote (stdout, a
 *   file) stayed in the guest's linear memory, which grew with the output until, past 2 GiB,
 *   every call to the host failed. The runtime's exports return no lists, so every allocation
 *   the bindings make is an import's argument.
 * - The runtime's last words when memory has run out (guest/node/bootstrap/out-of-memory.js): a message
 *   staged in memory at the start, written and the program ended with the imports' bare core
 *   functions, which take numbers and allocate nothing in JavaScript, where the bindings'
 *   wrappers (and the runtime's own code) would need memory there is none of.
 * - Less work on every call into the host, which the interpreter pays for in each request a
 *   service serves (scripts/bench-http.mjs): jco's debug logging calls go (off unless JCO_DEBUG
 *   is set, they still built their arguments on every call: about a fifth of a small request's
 *   instructions), and a string is encoded into memory with one native call instead of a loop
 *   over its code units first.
 */

/** jco's debug logging statements, removed from the bindings. */
const DEBUG_LOG_CALL = /^[ \t]*_debugLog\((?:'[^'\n]*'|"[^"\n]*")(?:, \{[^{}]*\})?\);\n/gm;
/** jco's string encoder, replaced (BINDINGS_JS assigns the new one). */
const UTF8_ENCODE = /^function _utf8AllocateAndEncode\(s, realloc, memory\) \{$/m;

/** The line where the bindings take the engine's functions. */
const TAKE = /^let \[\$memory, \$realloc, \$dealloc, ([^\]]*)\] = \$bindings;$/m;

/** Inserted after that line: %WRITE% and %EXIT% name two imports, %IMPORTS% wraps them all. */
export const BINDINGS_JS = `
{
  // fabricks (src/tools/componentize-js-bindings.ts)
  const allocate = $realloc;
  const owned = [];
  $realloc = (ptr, oldSize, align, size) => {
    const p = allocate(ptr, oldSize, align, size);
    if (ptr !== 0) {
      const i = owned.indexOf(ptr);
      if (i >= 0 && i % 3 === 0) owned.splice(i, 3);
    }
    owned.push(p, size, align);
    return p;
  };
  const release = () => {
    for (let i = 0; i < owned.length; i += 3) if (owned[i] !== 0) $dealloc(owned[i], owned[i + 1], owned[i + 2]);
    owned.length = 0;
  };
  const freeing = (call) => function (...args) {
    try {
      return call(...args);
    } finally {
      if (owned.length > 0) release();
    }
  };
  const bareWrite = %WRITE%;
  const bareExit = %EXIT%;
  // The same bytes as jco's encoder (a lone surrogate becomes U+FFFD, three bytes, in both),
  // sized by the one native encode rather than by a loop in the interpreter first.
  _utf8AllocateAndEncode = (s, realloc, memory) => {
    if (typeof s !== 'string') throw new TypeError('expected a string, received [' + typeof s + ']');
    if (s.length === 0) return { ptr: 1, len: 0 };
    const bytes = TEXT_ENCODER_UTF8.encode(s);
    const ptr = realloc(0, 0, 1, bytes.length);
    new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
    return { ptr, len: bytes.length };
  };
  // (jco's debug logging statements, matched by ${DEBUG_LOG_CALL.source}, are removed)
  contentGlobal.__fabricksLastWords = (stream, bytes) => {
    const ptr = allocate(0, 0, 1, bytes.length);
    new Uint8Array($memory.buffer, ptr, bytes.length).set(bytes);
    const handle = stream[symbolRscHandle];
    return () => {
      bareWrite(handle, ptr, bytes.length);
      bareExit(1);
    };
  };
%IMPORTS%
}
`;

/** The bindings with fabricks' code in, or an error when they no longer have the shape it expects. */
export function patchBindings(generated: string): string {
  if (!UTF8_ENCODE.test(generated)) throw new Error('componentize-js bindings: _utf8AllocateAndEncode was not found; src/tools/componentize-js-bindings.ts needs updating for this componentize-js');
  const bindings = generated.replace(DEBUG_LOG_CALL, '');
  // a call left in another shape could be part of an expression: better to know
  if (/\b_debugLog\(/.test(bindings)) throw new Error('componentize-js bindings: a _debugLog call of an unknown shape; src/tools/componentize-js-bindings.ts needs updating for this componentize-js');
  const take = TAKE.exec(bindings);
  if (!take) throw new Error('componentize-js bindings: the line taking $realloc and the imports from $bindings was not found; src/tools/componentize-js-bindings.ts needs updating for this componentize-js');
  const imports = take[1]!.split(',').map((n) => n.trim()).filter((n) => n.startsWith('$import_'));
  const named = (pattern: RegExp) => {
    const name = imports.find((n) => pattern.test(n));
    if (!name) throw new Error(`componentize-js bindings: no import matching ${pattern}; src/tools/componentize-js-bindings.ts needs updating for this componentize-js`);
    return name;
  };
  const code = BINDINGS_JS.replace('%WRITE%', named(/^\$import_wasi_io_streams_[\d_]+\$outputStream\$method\$blockingWriteAndFlush$/))
    .replace('%EXIT%', named(/^\$import_wasi_cli_exit_[\d_]+\$exit$/))
    .replace('%IMPORTS%', imports.map((n) => `  ${n} = freeing(${n});`).join('\n'));
  const end = take.index + take[0].length;
  return `${bindings.slice(0, end)}\n${code}${bindings.slice(end)}`;
}
