// Child process for componentize-js (see componentize-js.ts). Reads one JSON request on stdin.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { patchBindings } from './componentize-js-bindings.js';

const request = JSON.parse(readFileSync(0, 'utf8')) as {
  sourcePath: string;
  witPath: string;
  worldName: string;
  outPath: string;
  disableFeatures: string[];
  /** A shared object to preload into wizer (build-tools/reproducible-host.c). */
  preload?: string;
};

// componentize-js names its work folder sha256(Math.random()); a constant makes it a fixed path.
Math.random = () => 0.5;

// jco 1.35 with preview2-shim 0.26 gives wasm tools (the splicer) no filesystem until asked.
const { _setPreopens } = (await import('@bytecodealliance/preview2-shim/filesystem')) as unknown as {
  _setPreopens: (p: Record<string, string>) => void;
};
_setPreopens({ '/': '/' });

let wizerBin: string | undefined;
if (request.preload) {
  // componentize-js starts wizer with an environment of its own making, so the preload is set
  // by a wrapper script given as its wizer binary.
  const { default: wizer } = (await import('@bytecodealliance/wizer' as string)) as { default: string };
  wizerBin = join(dirname(request.outPath), 'wizer-reproducible.sh');
  writeFileSync(wizerBin, `#!/bin/sh\nLD_PRELOAD=${JSON.stringify(request.preload)} exec ${JSON.stringify(wizer)} "$@"\n`, { mode: 0o755 });
}

// fabricks' code in componentize-js 0.23's bindings (componentize-js-bindings.ts): its splicer,
// the same module instance componentize() uses, hands them out with it.
const splicerUrl = new URL('../lib/spidermonkey-embedding-splicer.js', import.meta.resolve('@bytecodealliance/componentize-js'));
const { splicer } = (await import(splicerUrl.href)) as { splicer: { spliceBindings: (...args: unknown[]) => { jsBindings: string } } };
const splice = splicer.spliceBindings;
splicer.spliceBindings = (...args) => {
  const spliced = splice(...args);
  return { ...spliced, jsBindings: patchBindings(spliced.jsBindings) };
};

const { componentize } = await import('@bytecodealliance/componentize-js');
const { component } = await componentize({
  sourcePath: request.sourcePath,
  witPath: request.witPath,
  worldName: request.worldName,
  disableFeatures: request.disableFeatures as never,
  ...(wizerBin ? { wizerBin } : {}),
});
writeFileSync(request.outPath, component);
