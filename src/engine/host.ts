/**
 * The host side of `fabricks run`: WASI 0.2 imports for one instance, deny by default. Streams,
 * clocks and randomness come from preview2-shim; arguments and environment are the ones granted;
 * the only folders are the granted mounts (folders.ts keeps the guest inside them); outgoing
 * HTTP reaches only what `connect` grants (outgoing.ts); sockets and name lookups are refused.
 */
import * as cli from '@bytecodealliance/preview2-shim/cli';
import * as clocks from '@bytecodealliance/preview2-shim/clocks';
import * as io from '@bytecodealliance/preview2-shim/io';
import * as random from '@bytecodealliance/preview2-shim/random';
import * as http from '@bytecodealliance/preview2-shim/http';
import * as sockets from '@bytecodealliance/preview2-shim/sockets';
import { FabricksError } from '../util/errors.js';
import { folders } from './folders.js';
import { outgoingHandler } from './outgoing.js';
import { PROVIDED_IMPORTS } from './provided.js';
import { lazyInput, mainThreadOutput } from './stdio.js';
import * as dueTimers from './due-timers.js';

/** Thrown by wasi:cli/exit to unwind the component; the runner turns it into the exit status. */
export class ExitSignal {
  constructor(readonly code: number) {}
}

/** A host folder the guest sees at `guest`, read-only or read-write. */
export interface Mount {
  guest: string;
  /** Absolute host path. */
  host: string;
  mode: 'ro' | 'rw';
}

/** What one run of a component is granted; everything else is denied. */
export interface Grants {
  args: string[];
  env: Array<[string, string]>;
  /** Folders preopened for the guest; none means no filesystem at all. */
  mounts?: Mount[];
  /** `[capabilities.network] connect` rules outgoing HTTP may reach; none means no network. */
  connect?: string[];
}

/**
 * Where the JavaScript runtime finds why a request was refused: StarlingMonkey's fetch reports
 * every host error as "an error occurred while using the host API", so the host adds
 * `FABRICKS_DENIED <host:port>` = the denial to this instance's environment, and the runtime's
 * fetch rethrows it (it never shows these entries in process.env).
 */
export const DENIED_PREFIX = 'FABRICKS_DENIED ';

/** An import that fails with the given error-code enum case (jco lowers enums from strings). */
const deniedEnum = (name: string) => () => {
  throw name;
};

export function hostImports(grants: Grants): Record<string, Record<string, unknown>> {
  const shim = cli as unknown as Record<string, Record<string, unknown>>;
  const fs = folders(grants.mounts ?? []);
  const denials = new Map<string, string>();
  const stdin = lazyInput(() => (shim.stdin!.getStdin as () => unknown)());
  const stdout = mainThreadOutput(() => (shim.stdout!.getStdout as () => unknown)(), process.stdout);
  const stderr = mainThreadOutput(() => (shim.stderr!.getStderr as () => unknown)(), process.stderr);
  const outgoing = outgoingHandler(grants.connect ?? [], (d) => denials.set(`${DENIED_PREFIX}${d.target}`, d.message));
  return {
    'wasi:cli/environment': {
      getEnvironment: () => (denials.size ? [...grants.env, ...denials] : grants.env),
      getArguments: () => grants.args,
      initialCwd: () => undefined,
    },
    'wasi:cli/exit': {
      exit(status: { tag: 'ok' | 'err' }) {
        throw new ExitSignal(status.tag === 'err' ? 1 : 0);
      },
      exitWithCode(code: number) {
        throw new ExitSignal(code);
      },
    },
    // served here, not by preview2-shim's I/O worker (stdio.ts)
    'wasi:cli/stdin': { getStdin: () => stdin },
    'wasi:cli/stdout': { getStdout: () => stdout },
    'wasi:cli/stderr': { getStderr: () => stderr },
    'wasi:cli/terminal-input': shim.terminalInput!,
    'wasi:cli/terminal-output': shim.terminalOutput!,
    // A stream is a terminal only when it is one here (preview2-shim says so always): programs
    // change how they read and print on a terminal (Python's input(), colored tracebacks).
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => (process.stdin.isTTY ? terminal(shim, 'terminalStdin', 'getTerminalStdin') : undefined) },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => (process.stdout.isTTY ? terminal(shim, 'terminalStdout', 'getTerminalStdout') : undefined) },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => (process.stderr.isTTY ? terminal(shim, 'terminalStderr', 'getTerminalStderr') : undefined) },
    // a timer already due is ready here, without preview2-shim's I/O worker (due-timers.ts)
    'wasi:clocks/monotonic-clock': dueTimers.monotonicClock as never,
    'wasi:clocks/wall-clock': clocks.wallClock as never,
    'wasi:random/random': random.random as never,
    'wasi:random/insecure': (random as never as Record<string, Record<string, unknown>>).insecure!,
    'wasi:random/insecure-seed': (random as never as Record<string, Record<string, unknown>>).insecureSeed!,
    'wasi:io/error': io.error as never,
    'wasi:io/poll': dueTimers.poll as never,
    'wasi:io/streams': io.streams as never,
    // Only the granted folders exist, contained and read-only where granted so (folders.ts);
    // none granted: the types exist so the component links, but nothing can be opened.
    'wasi:filesystem/preopens': fs.preopens,
    'wasi:filesystem/types': fs.types,
    'wasi:http/types': http.types as never,
    'wasi:http/outgoing-handler': outgoing,
    // Sockets (CPython links them through wasi-libc): the types exist, but no socket can be
    // created and no name resolved.
    'wasi:sockets/network': sockets.network as never,
    'wasi:sockets/instance-network': sockets.instanceNetwork as never,
    'wasi:sockets/tcp': sockets.tcp as never,
    'wasi:sockets/udp': sockets.udp as never,
    'wasi:sockets/tcp-create-socket': { createTcpSocket: deniedEnum('access-denied') },
    'wasi:sockets/udp-create-socket': { createUdpSocket: deniedEnum('access-denied') },
    'wasi:sockets/ip-name-lookup': { ...(sockets.ipNameLookup as object), resolveAddresses: deniedEnum('access-denied') },
  };
}

function terminal(shim: Record<string, Record<string, unknown>>, iface: string, getter: string): unknown {
  return (shim[iface]![getter] as () => unknown)();
}

/** The imports object for jco's instantiate(), failing clearly on an import fabricks does not grant. */
export function importsFor(required: string[], grants: Grants): Record<string, unknown> {
  const available = hostImports(grants);
  const out: Record<string, unknown> = {};
  for (const name of required) {
    const unversioned = name.replace(/@.*$/, '');
    const impl = available[unversioned];
    if (!impl) {
      throw new FabricksError('RUN_FAILED', `the component imports ${name}, which fabricks run does not grant`, {
        hint: `only ${PROVIDED_IMPORTS} are provided`,
      });
    }
    out[unversioned] = impl;
  }
  return out;
}
