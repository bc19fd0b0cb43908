#!/usr/bin/env node
// `fabricks run` starts its engine process first, so that it is ready by the time the CLI's own
// modules have loaded (src/engine/process.ts).
import { EngineProcess } from '../dist/engine/process.js';

EngineProcess.startEarly(process.argv);
await import('../dist/cli/main.js');
