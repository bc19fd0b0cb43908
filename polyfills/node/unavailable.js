// What a Node built-in the runtime does not serve is made of in a bundle
// (src/runtimes/node/unavailable-builtins.ts writes the module): its exports exist, so imports
// link and code that only mentions them loads; calling one throws an Error the program can catch.

export function unavailableError(module, hint, member) {
  const err = new Error(`node:${module} is not available inside a fabricks sandbox: ${hint}${member ? ` (${member} was called)` : ''}`);
  err.code = 'ERR_FABRICKS_UNAVAILABLE';
  err.module = `node:${module}`;
  return err;
}

/** A function (or class: `new` and `extends` reach it too) that throws when called. */
export function unavailableFunction(module, hint, member) {
  const fn = function () {
    throw unavailableError(module, hint, member);
  };
  Object.defineProperty(fn, 'name', { value: member.split('.').pop() });
  return fn;
}

/** An object (an instance Node exports, such as http.globalAgent) whose methods throw. */
export function unavailableObject(module, hint, member, methods) {
  const obj = {};
  for (const m of methods) obj[m] = unavailableFunction(module, hint, `${member}.${m}`);
  return obj;
}
