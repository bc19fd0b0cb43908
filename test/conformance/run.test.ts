import { conformance } from './suite.js';

// The capability conformance suite, each cell a run (fabricks run <dir> -- <probes>): see suite.ts and table.ts.
conformance('run');
