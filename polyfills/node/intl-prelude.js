// Put in front of a bundle that uses Intl (src/runtimes/node/bundle-prelude.ts says when): the
// runtime's SpiderMonkey is built without ICU, so it has no Intl and its toLocale*String and
// localeCompare ignore locales and options. `Intl` is a getter that loads the polyfills
// (intl-load.js, built) on first touch: they and their data are large, and start-up does not pay for
// them (nor even parse them: the build puts them here as a string, src/runtimes/node/intl-prelude.ts).
// The locale-aware methods load them too on their first call.
let intl;

function load() {
  if (intl) return intl;
  intl = {};
  Object.defineProperty(intl, Symbol.toStringTag, { value: 'Intl', configurable: true });
  // in place before the polyfills run: each adds its constructor to the Intl it finds
  Object.defineProperty(globalThis, 'Intl', { value: intl, writable: true, configurable: true, enumerable: false });
  (0, eval)(require('fabricks:intl-source'));
  return intl;
}

if (typeof globalThis.Intl === 'undefined') {
  Object.defineProperty(globalThis, 'Intl', {
    configurable: true,
    enumerable: false,
    get: load,
    // a program that installs its own Intl keeps it
    set(value) {
      Object.defineProperty(globalThis, 'Intl', { value, writable: true, configurable: true, enumerable: false });
    },
  });
  // each stub stands until the polyfills replace it, then calls what replaced it
  const stub = (proto, name) => {
    const placeholder = {
      [name](...args) {
        load();
        if (proto[name] === placeholder) throw new Error(`fabricks: the Intl polyfills did not install ${name}`);
        return proto[name].apply(this, args);
      },
    }[name];
    Object.defineProperty(proto, name, { value: placeholder, writable: true, configurable: true, enumerable: false });
  };
  for (const name of ['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString']) stub(Date.prototype, name);
  stub(Number.prototype, 'toLocaleString');
  if (typeof BigInt !== 'undefined') stub(BigInt.prototype, 'toLocaleString');
  stub(String.prototype, 'localeCompare');
}
