// Node's AbortError, as node:events, node:timers/promises and node:http reject with it when a
// signal aborts: name AbortError, code ABORT_ERR, the signal's reason as its cause.
export function abortError(reason) {
  const e = new Error('The operation was aborted');
  e.name = 'AbortError';
  e.code = 'ABORT_ERR';
  if (reason !== undefined) e.cause = reason;
  return e;
}
