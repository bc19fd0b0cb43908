// The error a program gets when it calls what a fabricks sandbox does not have: a plain Error it
// can catch, whose message says what is missing and what to use or grant instead.
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
