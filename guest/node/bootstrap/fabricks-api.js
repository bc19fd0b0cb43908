// The `fabricks` global: the packed files, and stdin read synchronously.

import { list, read } from './host.js';
import { decodeText } from './bytes.js';
import { normalizePath, readPacked } from './packed-files.js';
import { syncStdin } from './stdin.js';

export const fabricksApi = Object.freeze({
  files: () => list(),
  exists: (path) => {
    const bytes = read(normalizePath(path));
    return bytes !== undefined && bytes !== null;
  },
  readFile: (path) => readPacked(path),
  readText: (path) => decodeText(readPacked(path)),
  stdin: syncStdin,
});
