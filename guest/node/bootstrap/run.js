// wasi:cli/run: the bundle runs as Node would run a script, until nothing is left to do.

import { encoder } from './natives.js';
import { settleMain } from './liveness.js';
import { stderrStream, writeAll } from './output.js';
import { beginRun, exitWith, fatal } from './process.js';
import { prepareLastWords } from './out-of-memory.js';
import { atLoadPosition } from './error-format.js';
import { entryName } from './entry.js';
import { startMain } from './main-script.js';
import { resume } from './prepare.js';

export const run = {
  run() {
    resume();
    return new Promise((resolve) => {
      beginRun(resolve);
      prepareLastWords();
      // The program starts in a job, after this call has returned its promise: the runtime
      // needs memory to wait on that promise, and a program that fills the heap before the
      // call returns left it none (it aborted, instead of saying it ran out of memory).
      Promise.resolve().then(start);
    });
  },
};

function start() {
  let main;
  try {
    main = startMain();
  } catch (e) {
    fatal(atLoadPosition(e));
    return;
  }
  if (!main) {
    writeAll(stderrStream(), encoder.encode(`fabricks: the module layer has no entrypoint "${entryName}"\n`));
    exitWith(1);
    return;
  }
  main.then(
    () => settleMain(),
    (e) => fatal(e),
  );
}
