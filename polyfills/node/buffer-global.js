// Injected into every bundle: a free `Buffer` in any module means node:buffer's Buffer, as it
// means Node's in Node. Without side effects of its own, so bundles that never say `Buffer`
// do not carry it.
export { Buffer } from 'node:buffer';
