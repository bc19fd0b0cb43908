// Corpus servers that do not run under fabricks yet, each with the cause its failure must still
// show. The corpus test runs them like the others and expects exactly this failure: a server that
// starts to pass, or fails for another reason, fails the test until this list says so. The corpus
// passes whole when this list is empty (issue 19).

/** @type {Record<string, { cause: RegExp, why: string }>} */
export const knownFailures = {};
