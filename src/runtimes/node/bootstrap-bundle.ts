import { dirname } from 'node:path';

/**
 * The bootstrap's modules (guest/node/bootstrap/, one idea each) as the one script
 * componentize-js takes. The component's imports (`wasi:*`, `fabricks:app/source`) stay imports;
 * nothing is lowered or minified, so the script runs as its modules are written.
 *
 * `source`, when given, is the text of a module that stands in for fabricks:app/source (the
 * build benchmark's monolithic app inlines the app's files that way).
 */
export async function bundleBootstrap(entry: string, options: { source?: string } = {}): Promise<string> {
  const esbuild = await import('esbuild');
  const { source } = options;
  const result = await esbuild.build({
    entryPoints: [entry],
    absWorkingDir: dirname(entry),
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    external: source === undefined ? ['wasi:*', 'fabricks:*'] : ['wasi:*'],
    logLevel: 'silent',
    plugins:
      source === undefined
        ? []
        : [
            {
              name: 'fabricks-inline-source',
              setup(build) {
                build.onResolve({ filter: /^fabricks:app\/source@/ }, (args) => ({ path: args.path, namespace: 'fabricks-inline-source' }));
                build.onLoad({ filter: /.*/, namespace: 'fabricks-inline-source' }, () => ({ contents: source, loader: 'js' }));
              },
            },
          ],
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error('esbuild returned no bootstrap bundle');
  return out.text;
}
