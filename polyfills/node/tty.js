// node:tty for bundles: a WASI component is not told whether its stdio is a terminal, so
// isatty() is false (colour libraries then print plain text, as they do into a pipe).
import { refuseClass } from './unavailable.js';

export const isatty = () => false;
const WHY = 'the runtime is not told whether its stdio is a terminal (tty.isatty() is false); write to process.stdout and process.stderr';
export const ReadStream = refuseClass('node:tty ReadStream', WHY);
export const WriteStream = refuseClass('node:tty WriteStream', WHY);

export default { isatty, ReadStream, WriteStream };
