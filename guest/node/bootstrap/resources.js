// Dropping the component resources the host hands out (streams, descriptors, bodies): they are
// freed when dropped, not when garbage is collected.

export function close(resource) {
  const dispose = Symbol.dispose;
  if (dispose && typeof resource?.[dispose] === 'function') resource[dispose]();
}

const DISPOSE = Symbol.dispose ?? Symbol.for('dispose'); // how componentize-js drops a resource
export const drop = (r) => r?.[DISPOSE]?.();
