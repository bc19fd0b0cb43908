// Child process for componentize-js (see componentize-js.ts). Reads one JSON request on stdin.
import { readFileSync, writeFileSync } from 'node:fs';

const request = JSON.parse(readFileSync(0, 'utf8')) as {
  sourcePath: string;
  witPath: string;
  worldName: string;
  outPath: string;
  disableFeatures: string[];
};

// componentize-js names its work folder sha256(Math.random()); a constant makes it a fixed path.
Math.random = () => 0.5;

// jco 1.35 with preview2-shim 0.26 gives wasm tools (the splicer) no filesystem until asked.
const { _setPreopens } = (await import('@bytecodealliance/preview2-shim/filesystem')) as unknown as {
  _setPreopens: (p: Record<string, string>) => void;
};
_setPreopens({ '/': '/' });

const { componentize } = await import('@bytecodealliance/componentize-js');
const { component } = await componentize({
  sourcePath: request.sourcePath,
  witPath: request.witPath,
  worldName: request.worldName,
  disableFeatures: request.disableFeatures as never,
});
writeFileSync(request.outPath, component);
