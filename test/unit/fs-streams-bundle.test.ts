import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bundleEntrypoint } from '../../src/runtimes/node/bundle.js';

async function bundle(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fabricks-fs-streams-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return new TextDecoder().decode((await bundleEntrypoint(dir, 'main.js')).code);
}

describe("fs's streams in a bundle", () => {
  it('are left out, with the stream module under them, when no file names them', async () => {
    const code = await bundle({ 'main.js': "import { readFileSync } from 'node:fs';\nconsole.log(readFileSync('main.js', 'utf8'));\n" });
    expect(code).toContain('fabricks/polyfills/node/fs-streams-absent.js');
    expect(code).not.toContain('readable-stream');
    expect(code.length).toBeLessThan(20_000);
  });

  it('are bundled when a package names one, however it reaches fs', async () => {
    const code = await bundle({
      'main.js': "import lines from 'liner';\nimport { open } from 'node:fs/promises';\nconsole.log(lines, open);\n",
      'node_modules/liner/package.json': '{"name":"liner","version":"1.0.0","main":"index.js"}',
      'node_modules/liner/index.js': "const fs = require('fs');\nmodule.exports = (p) => fs.createReadStream(p);\n",
    });
    expect(code).toContain('fabricks/polyfills/node/fs-streams.js');
    expect(code).not.toContain('fs-streams-absent');
    expect(code).toContain('readable-stream');
  });

  it('are bundled for a FileHandle stream too', async () => {
    const code = await bundle({ 'main.js': "import { open } from 'node:fs/promises';\nconst h = await open('x');\nh.createWriteStream();\n" });
    expect(code).toContain('fabricks/polyfills/node/fs-streams.js');
  });
});
