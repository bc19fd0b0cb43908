// The error a program gets when it calls what a fabricks sandbox does not have: a plain Error it
// can catch, whose message says what is missing and what to use or grant instead. The polyfills
// use it for what they leave out; the build's stubs of the built-ins the runtime does not serve
// (src/runtimes/node/unavailable-builtins.ts) are made of it too, so imports of them link and
// code that only mentions them loads.
export function unavailable(what, why, extra = {}) {
  const e = new Error(`${what} is not available inside a fabricks sandbox: ${why}`);
  e.code = 'ERR_FABRICKS_UNAVAILABLE';
  Object.assign(e, extra);
  return e;
}

/** A function that throws `unavailable(...)` when called. */
export const refuse = (what, why, extra) =>
  function refused() {
    throw unavailable(what, why, extra);
  };

/** A class whose constructor throws `unavailable(...)`. */
export const refuseClass = (what, why, extra) =>
  class Unavailable {
    constructor() {
      throw unavailable(what, why, extra);
    }
  };

/**
 * A stub's function (or class: `new` and `extends` reach it too) that throws when called:
 * `node:<module> is not available ...: <hint> (<member> was called)`, or with `partial` (a
 * function the served module lacks) `node:<module> <name> is not available ...: <hint>`.
 */
export function unavailableFunction(module, hint, member, partial = false) {
  const name = member.split('.').pop();
  const what = partial ? `node:${module} ${name}` : `node:${module}`;
  const why = partial ? hint : `${hint} (${member} was called)`;
  const fn = function () {
    throw unavailable(what, why, { module: `node:${module}` });
  };
  Object.defineProperty(fn, 'name', { value: name });
  return fn;
}

/** What a served module's default export has under `key`, else what `otherwise()` makes. */
export function fromDefault(all, key, otherwise) {
  return all != null && all[key] !== undefined ? all[key] : otherwise();
}

/** An object (an instance Node exports, such as http.globalAgent) whose methods throw. */
export function unavailableObject(module, hint, member, methods) {
  const obj = {};
  for (const m of methods) obj[m] = unavailableFunction(module, hint, `${member}.${m}`);
  return obj;
}
