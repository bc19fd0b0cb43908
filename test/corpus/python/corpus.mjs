// A Python corpus server (servers.mjs) as a fabricks project: its requirements and the launcher
// pip writes for its console script, nothing else. Shared by test/integration/python-corpus.test.ts
// and scripts/bench-start.mjs, so both build the same thing.

/**
 * The project's files: fabricks.toml (named `name`, with `capabilities` appended: the test's mounts
 * and variables), requirements.txt and run_server.py.
 * @param {{ requirements: string[], main: [string, string] }} server
 * @param {{ name: string, capabilities?: string }} options
 */
export function projectFiles(server, { name, capabilities = '' }) {
  const [module, fn] = server.main;
  return {
    'fabricks.toml': `[package]\nname = "${name}"\n\n[from]\nimage = "fabricks.dev/runtimes/python"\n\n[source]\nentrypoint = "run_server.py"\n\n${capabilities}`,
    'requirements.txt': server.requirements.join('\n') + '\n',
    // what pip writes for the package's console script
    'run_server.py': `import sys\nfrom ${module} import ${fn}\nsys.exit(${fn}())\n`,
  };
}
