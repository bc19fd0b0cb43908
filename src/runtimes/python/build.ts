import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../util/paths.js';
import type { Reporter } from '../../util/progress.js';
import { componentizePy, COMPONENTIZE_PY_VERSION } from '../../tools/componentize-py.js';
import type { RuntimeBuilder } from '../kind.js';
import { compileHelper } from '../compile-c.js';

const PIN_STAT_C = join(packageRoot, 'build-tools', 'pin-stat.c');

/** The Python runtime: CPython built by componentize-py around fabricks_runtime.py. */
export const builder: RuntimeBuilder = {
  tool: 'componentize-py',
  version: COMPONENTIZE_PY_VERSION,
  // componentize-py 0.25.1's WASI adapter speaks 0.2.9
  wasi: '0.2.9',
  // the guest files the build takes (not the __pycache__ a host Python leaves there)
  sources: /\.(py|txt|wit)$/,
  // the tracer that pins the stat calls wasmtime makes without libc
  inputs: async () => [['build/pin-stat.c', await readFile(PIN_STAT_C, 'utf8')]],
  async build(job) {
    const wrapper = job.preload ? await buildStatPinner(join(job.src, 'build', 'pin-stat.c'), join(job.root, 'pin-stat'), job.reference, job.reporter) : undefined;
    await componentizePy({
      appDir: job.src,
      appModule: 'fabricks_runtime',
      witPath: join(job.src, 'wit'),
      worldName: 'runtime',
      outPath: job.out,
      tmpDir: job.tmpDir,
      emptyVenv: join(job.root, 'venv'),
      ...(job.preload ? { preload: job.preload, fixedMetadataRoot: job.root } : {}),
      ...(wrapper ? { wrapper } : {}),
      signal: job.signal,
    });
  },
};

/**
 * Compiles build-tools/pin-stat.c, which runs componentize-py under ptrace to pin the inode
 * numbers, devices and times of the files it imports: wasmtime stats them with raw syscalls that
 * the preload cannot see, and CPython keeps what it saw in its snapshot. x86_64 Linux only;
 * elsewhere two builds may differ in a few bytes.
 */
async function buildStatPinner(source: string, out: string, subject: string, reporter: Reporter): Promise<string | undefined> {
  if (process.arch !== 'x64') {
    reporter({ event: 'note', code: 'not-reproducible', subject, detail: 'Python runtime builds are byte-reproducible on x86_64 Linux only' });
    return undefined;
  }
  return compileHelper(['-O2', source], out, subject, reporter);
}
