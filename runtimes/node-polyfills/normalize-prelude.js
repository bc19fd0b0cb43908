// Put in front of a bundle that calls .normalize(): the runtime's SpiderMonkey is built without
// the ICU data String.prototype.normalize needs; unorm installs a conforming one when it is missing.
import 'unorm';
