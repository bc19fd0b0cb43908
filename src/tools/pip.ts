import { FabricksError } from '../util/errors.js';
import { runTool } from './run-tool.js';

/** The Python that runs pip on the build machine; FABRICKS_PYTHON overrides. */
export function hostPython(): string {
  return process.env.FABRICKS_PYTHON || 'python3';
}

/** Where the wheels must run: pure-Python wheels for one CPython version, any platform. */
export interface WheelTarget {
  /** e.g. "3.14" */
  pythonVersion: string;
}

// Only wheels that say "any platform, no ABI": nothing compiled can load in the WebAssembly runtime.
const pureOnly = (t: WheelTarget) => ['--only-binary=:all:', '--platform', 'any', '--implementation', 'py', '--abi', 'none', '--python-version', t.pythonVersion];

/**
 * Pure wheels and, for packages that have none, a Linux wheel for the target CPython: only to
 * learn the versions and dependencies of compiled packages (their metadata is the same on every
 * platform); fabricks builds those from their source distributions.
 */
const anyWheel = (t: WheelTarget) => {
  const cp = `cp${t.pythonVersion.replace('.', '')}`;
  const platforms = ['any', 'manylinux2014_x86_64', 'manylinux_2_28_x86_64', 'manylinux_2_34_x86_64'];
  return ['--only-binary=:all:', ...platforms.flatMap((p) => ['--platform', p]), '--implementation', 'cp', '--abi', 'none', '--abi', 'abi3', '--abi', cp, '--python-version', t.pythonVersion];
};

/** One resolved distribution from pip's installation report. */
export interface ReportedWheel {
  name: string;
  version: string;
  url: string;
  sha256: string | undefined;
  /** The names of the distributions it requires (markers not evaluated). */
  requires: string[];
  /** The same requirements, each with the extra it belongs to (`; extra == "crypto"`), if any. */
  dependencies: Array<{ name: string; extra?: string }>;
  /** Named in the requirements themselves, not only required by another package. */
  requested: boolean;
}

/** One Requires-Dist line: the name, and the extra its marker puts it under. */
function dependency(line: string): { name: string; extra?: string } {
  const name = /^\s*([A-Za-z0-9._-]+)/.exec(line)?.[1] ?? line;
  const marker = line.includes(';') ? line.slice(line.indexOf(';') + 1) : '';
  const extra = /\bextra\s*==\s*["']([^"']+)["']/.exec(marker)?.[1];
  return extra ? { name, extra } : { name };
}

/**
 * Resolves requirements to exact wheels without installing anything (`pip install --dry-run
 * --report`), as pip would for the target, so fabricks resolves exactly as pip does.
 */
export async function resolveRequirements(
  requirementsFile: string,
  target: WheelTarget,
  scratch: string,
  signal?: AbortSignal,
  options: { compiled?: boolean; noDeps?: boolean } = {},
): Promise<ReportedWheel[]> {
  const wheels = options.compiled ? anyWheel(target) : pureOnly(target);
  // --quiet hides why a resolution is impossible (pip logs the conflict at info level): the log file keeps it
  const log = `${scratch}-pip.log`;
  const run = await runTool(
    'pip',
    hostPython(),
    ['-m', 'pip', 'install', '--dry-run', '--quiet', '--progress-bar', 'off', '--ignore-installed', '--no-input', '--report', '-', '--log', log, '--target', scratch, ...(options.noDeps ? ['--no-deps'] : []), ...wheels, '-r', requirementsFile],
    { signal, env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' } },
  ).catch(async (e: unknown) => {
    const { readFile } = await import('node:fs/promises');
    throw explainPipFailure(e, { compiled: options.compiled === true, target, log: await readFile(log, 'utf8').catch(() => '') });
  });
  let report: {
    install?: Array<{ requested?: boolean; metadata: { name: string; version: string; requires_dist?: string[] }; download_info: { url: string; archive_info?: { hashes?: Record<string, string>; hash?: string } } }>;
  };
  try {
    report = JSON.parse(run.stdout);
  } catch (cause) {
    throw new FabricksError('TOOL_FAILED', `pip's installation report is not JSON (is pip older than 22.2?)`, { cause, hint: 'upgrade pip on this machine: python3 -m pip install -U pip' });
  }
  return (report.install ?? []).map((i) => ({
    name: i.metadata.name,
    version: i.metadata.version,
    url: i.download_info.url,
    sha256: i.download_info.archive_info?.hashes?.sha256 ?? /^sha256=([0-9a-f]{64})$/.exec(i.download_info.archive_info?.hash ?? '')?.[1],
    requires: (i.metadata.requires_dist ?? []).map((r) => dependency(r).name),
    dependencies: (i.metadata.requires_dist ?? []).map(dependency),
    requested: i.requested === true,
  }));
}

/** Downloads exactly the pinned wheels (name==version --hash) into `dest`; pip checks every hash. */
export async function downloadWheels(pinnedFile: string, dest: string, target: WheelTarget, signal?: AbortSignal): Promise<void> {
  await runTool('pip', hostPython(), ['-m', 'pip', 'download', '--quiet', '--no-deps', '--no-input', '--require-hashes', '-d', dest, ...pureOnly(target), '-r', pinnedFile], {
    signal,
    env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
  }).catch((e: unknown) => {
    throw explainPipFailure(e);
  });
}

/**
 * pip's failures in fabricks' words: a package with no pure-Python wheel is named with the reason;
 * anything else keeps pip's own last lines.
 */
function explainPipFailure(e: unknown, context?: { compiled: boolean; target: WheelTarget; log: string }): unknown {
  if (!(e instanceof FabricksError) || e.code !== 'TOOL_FAILED') return e;
  const text = e.message;
  const missing = /Could not find a version that satisfies the requirement ([A-Za-z0-9._-]+)(\S*)(?: \(from ([^)]*)\))?(?: \(from versions: ([^)]*)\))?/.exec(text);
  if (missing && context?.compiled) {
    // not even a compiled wheel for this CPython: fabricks learns a package's dependencies from one
    const [, name, spec, from, versions] = missing;
    const have = versions && versions !== 'none' ? versions.split(', ') : [];
    const py = context.target.pythonVersion;
    return new FabricksError('DEPENDENCY_INVALID', `the Python package ${name}${spec ?? ''} (${from ? `required by ${from.trim()}` : 'required by the project'}) has no wheel for CPython ${py} on the package index, pure-Python or compiled`, {
      cause: e,
      hint: have.length
        ? `that version predates Python ${py}; the versions with a ${py} wheel are ${have.length > 6 ? `${have.slice(0, 2).join(', ')} ... ${have.slice(-3).join(', ')}` : have.join(', ')}: require one of those${from ? `, or a newer ${from.trim().split(/[=<>!~ ]/)[0]} that does` : ''}`
        : `check the name; if it is right, ${name} has no release for Python ${py}: drop the dependency or use an alternative`,
    });
  }
  if (missing) {
    const [, name, , from] = missing;
    return new FabricksError('DEPENDENCY_INVALID', `the Python package ${name}${from ? ` (required by ${from.trim()})` : ''} has no pure-Python wheel on the package index for this runtime`, {
      cause: e,
      hint: `fabricks runs Python in WebAssembly, which loads only pure-Python code: ${name} is either compiled (wheels only for specific platforms) or missing; use a pure-Python alternative, or drop the dependency`,
    });
  }
  if (/ResolutionImpossible/.test(text)) {
    const conflict = conflictLines(context?.log ?? '');
    return new FabricksError('DEPENDENCY_INVALID', `the Python requirements conflict: no set of versions satisfies them all${conflict.length ? '' : ` (${text.split('\n').find((l) => l.includes('Cannot install'))?.replace(/^ERROR: /, '') ?? 'pip gave no reason'})`}`, {
      cause: e,
      problems: conflict,
      hint: 'loosen or change the requirements named above so that they agree',
    });
  }
  const mismatch = /THESE PACKAGES DO NOT MATCH THE HASHES[\s\S]*?\n\s+([A-Za-z0-9._-]+)==([^\s]+)/.exec(text);
  if (mismatch) {
    return new FabricksError('DIGEST_MISMATCH', `the wheel of ${mismatch[1]} ${mismatch[2]} does not match the hash in fabricks.lock`, {
      cause: e,
      hint: 'someone changed the file on the index, or the lock was edited; check it, then delete the [[python.packages]] entries from fabricks.lock to resolve again',
    });
  }
  if (/No module named pip/.test(text)) return new FabricksError('TOOL_MISSING', `pip is not installed for ${hostPython()}`, { cause: e, hint: 'install pip (Debian: apt-get install python3-pip), or set FABRICKS_PYTHON to a Python that has it' });
  return e;
}

/** The lines under pip's "The conflict is caused by:" in its log (without the log's timestamps). */
function conflictLines(log: string): string[] {
  const lines = log.split('\n').map((l) => l.replace(/^\S+ /, ''));
  const at = lines.findIndex((l) => l.startsWith('The conflict is caused by:'));
  if (at < 0) return [];
  const out: string[] = [];
  for (const l of lines.slice(at + 1)) {
    if (!l.startsWith(' ') || !l.trim()) break;
    out.push(l.trim());
  }
  return out;
}

/**
 * A virtual environment of the build machine's Python in `dir` with `requires` installed from the
 * index pip is configured with, as a PEP 517 frontend installs a package's build requirements for
 * an isolated build; returns its python. For build scripts that run Python (cryptography's runs
 * cffi to write C).
 */
export async function buildRequirementsPython(requires: string[], dir: string, signal?: AbortSignal): Promise<string> {
  await runTool('python -m venv', hostPython(), ['-m', 'venv', dir], { signal });
  const python = `${dir}/bin/python`;
  await runTool('pip install (build requirements)', python, ['-m', 'pip', 'install', '--quiet', '--no-input', '--disable-pip-version-check', ...requires], { signal });
  return python;
}
