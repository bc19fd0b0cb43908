import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';

/** docs/python.md lists the runtime's pre-imported standard library; it must list exactly that. */
describe('docs/python.md', () => {
  it('lists the modules of guest/python/preimport.txt, no more and no fewer', async () => {
    const listed = (await readFile(join(repoRoot, 'guest', 'python', 'preimport.txt'), 'utf8'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const docs = await readFile(join(repoRoot, 'docs', 'python.md'), 'utf8');
    const section = docs.slice(docs.indexOf('The pre-imported set'), docs.indexOf('Modules these import'));
    const documented = [...section.matchAll(/^- \*\*[^*]+\*\*: (.+)$/gm)].flatMap((m) => [...m[1]!.matchAll(/`([^`]+)`/g)].map((x) => x[1]));
    expect(documented.sort()).toEqual([...listed].sort());
  });
});
