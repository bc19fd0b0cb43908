import { relative, sep } from 'node:path';
import type { Plugin } from 'esbuild';

const BARE = /^(?:@[^/]+\/)?[^./][^:]*$/;

/**
 * A package that is loaded with `import()` or `require()` and is not installed (an optional peer
 * dependency: xsschema's `import('effect')`, tried in turn with others) fails at run time as it
 * does in Node, when that line runs, with Node's error code and message; the program may catch it
 * and go on. A static `import` of a missing package stays a build error: every run would fail.
 */
export function missingPackagesPlugin(sourceDir: string): Plugin {
  return {
    name: 'fabricks-missing-packages',
    setup(build) {
      build.onResolve({ filter: BARE }, async (args) => {
        if ((args.kind !== 'dynamic-import' && args.kind !== 'require-call') || args.pluginData?.fabricksProbe) return undefined;
        const found = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { fabricksProbe: true } });
        if (found.errors.length === 0) return { path: found.path, namespace: found.namespace, external: found.external, sideEffects: found.sideEffects, pluginData: found.pluginData };
        const importer = args.importer ? relative(sourceDir, args.importer).split(sep).join('/') : 'the entrypoint';
        return { path: args.path, namespace: 'fabricks-missing', pluginData: { kind: args.kind, importer } };
      });
      build.onLoad({ filter: /.*/, namespace: 'fabricks-missing' }, (args) => {
        const { kind, importer } = args.pluginData as { kind: string; importer: string };
        const [message, code] = kind === 'require-call' ? [`Cannot find module '${args.path}'`, 'MODULE_NOT_FOUND'] : [`Cannot find package '${args.path}' imported from ${importer}`, 'ERR_MODULE_NOT_FOUND'];
        return { contents: `throw Object.assign(new Error(${JSON.stringify(`${message} (it was not installed when the app was built)`)}), { code: ${JSON.stringify(code)} });\n`, loader: 'js' };
      });
    },
  };
}
