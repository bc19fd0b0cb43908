import { conformance } from './suite.js';

// The capability conformance suite, each cell a served instance answering a request per probe: see suite.ts and table.ts.
conformance('serve');
