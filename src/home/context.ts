import type { RegistryOptions } from '../oci/registry/client.js';
import { silentReporter, type Reporter } from '../util/progress.js';
import { openHome, type Home } from './home.js';

/**
 * What every operation on the home is given: the home itself, where progress goes, how to reach
 * registries, and the signal that interrupts it (Ctrl-C). Use cases take one; the CLI makes it.
 */
export interface Context {
  home: Home;
  reporter: Reporter;
  registry: RegistryOptions;
  signal?: AbortSignal | undefined;
}

export async function openContext(options: { home?: string; reporter?: Reporter; registry?: RegistryOptions; signal?: AbortSignal | undefined } = {}): Promise<Context> {
  const home = await openHome(options.home);
  const reporter = options.reporter ?? silentReporter;
  home.store.onDamaged = (digest, movedTo) => reporter({ event: 'note', code: 'damaged-blob', subject: digest, detail: `it did not match its digest and was moved to ${movedTo}; a build or pull writes it again` });
  return {
    home,
    reporter,
    // registry requests stop on Ctrl-C and say when they try again
    registry: { ...options.registry, signal: options.signal, onRetry: (n) => reporter({ event: 'retry', ...n }) },
    ...(options.signal ? { signal: options.signal } : {}),
  };
}
