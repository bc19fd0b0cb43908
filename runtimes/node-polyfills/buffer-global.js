// Injected into every bundle: a free `Buffer` in any module means the `buffer` package's Buffer,
// as it means Node's in Node. Made global too, for code that reads globalThis.Buffer.
import { Buffer } from 'buffer';

if (!globalThis.Buffer) globalThis.Buffer = Buffer;
export { Buffer };
