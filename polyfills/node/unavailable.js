// What a Node built-in the runtime does not serve is made of in a bundle
// (src/runtimes/node/unavailable-builtins.ts writes the module): its exports exist, so imports
// link and code that only mentions them loads; calling one throws an Error the program can catch.

export function unavailableError(module, hint, member, partial = false) {
  const what = partial ? `node:${module} ${member.split('.').pop()}` : `node:${module}`;
  const err = new Error(`${what} is not available inside a fabricks sandbox: ${hint}${member && !partial ? ` (${member} was called)` : ''}`);
  err.code = 'ERR_FABRICKS_UNAVAILABLE';
  err.module = `node:${module}`;
  return err;
}

/** A function (or class: `new` and `extends` reach it too) that throws when called; `partial`: one the served module lacks. */
export function unavailableFunction(module, hint, member, partial = false) {
  const fn = function () {
    throw unavailableError(module, hint, member, partial);
  };
  Object.defineProperty(fn, 'name', { value: member.split('.').pop() });
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
