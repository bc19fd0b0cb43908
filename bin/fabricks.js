#!/usr/bin/env node
// `fabricks run` starts its engine process (wasmtime) first, so that it loads while the CLI's
// own modules do (src/engine/wasmtime.ts).
import { WasmtimeHost } from '../dist/engine/wasmtime.js';

WasmtimeHost.startEarly(process.argv);
await import('../dist/cli/main.js');
