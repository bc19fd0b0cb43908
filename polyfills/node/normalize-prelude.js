// Put in front of a bundle that calls .normalize(): the runtime's SpiderMonkey is built without
// the ICU data String.prototype.normalize needs. unorm installs a conforming one when there is
// none; it is loaded on the first call, not at start-up, as its tables are large.
if (!String.prototype.normalize) {
  const stub = function normalize(form) {
    delete String.prototype.normalize;
    require('unorm');
    return String.prototype.normalize.call(this, form);
  };
  Object.defineProperty(String.prototype, 'normalize', { value: stub, writable: true, configurable: true, enumerable: false });
}
