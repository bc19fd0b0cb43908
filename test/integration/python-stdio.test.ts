import { describe, expect, inject, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fabricks, project, pyToml, repoRoot } from '../helpers.js';

/**
 * Standard output and error of a Python service through `fabricks run`, read through pipes:
 * everything a program writes arrives, byte for byte and in order, however it writes and
 * however slowly the other end reads.
 */

/** Each way of writing, to both streams; the counts os.write returned last, on stdout. */
const WRITER = String.raw`
import io, os, sys

n = int(sys.argv[1])

def block(tag):
    return "".join(f"{tag}{i:06d}" for i in range(n // 7 + 1))[:n]

counts = []
for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
    tag = "o" if fd == 1 else "e"
    print(block(tag + "P"), file=stream)
    stream.write(block(tag + "W") + "\n")
    stream.write("\u2713" * (n // 3) + "\n")
    stream.buffer.write(block(tag + "B").encode() + b"\n")
    stream.flush()
    # no loop around it: a write to a blocking pipe on Linux takes it all
    counts.append(os.write(fd, (block(tag + "O") + "\n").encode()))
print(*counts)
# a line left unfinished in the original stream is flushed when the program ends
sys.stdout.write("unfinished")
sys.stdout = io.StringIO()
`;

function block(tag: string, n: number): string {
  let s = '';
  for (let i = 0; s.length < n; i++) s += tag + String(i).padStart(6, '0');
  return s.slice(0, n);
}

function expected(n: number) {
  const stream = (tag: string) => [block(tag + 'P', n), block(tag + 'W', n), '\u2713'.repeat(Math.floor(n / 3)), block(tag + 'B', n), block(tag + 'O', n), ''].join('\n');
  const written = Buffer.byteLength(block('oO', n) + '\n');
  return { stdout: stream('o') + `${written} ${written}\nunfinished`, stderr: stream('e') };
}

/** Runs the CLI and reads its stdout and stderr as bytes, stopping for a while after every MiB. */
function runReadingSlowly(args: string[]): Promise<{ status: number | null; stdout: Buffer; stderr: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'fabricks.js'), ...args], {
      env: { ...process.env, FABRICKS_HOME: inject('fabricksHome') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let sinceStop = 0;
    const read = (into: Buffer[]) => (chunk: Buffer) => {
      into.push(chunk);
      sinceStop += chunk.length;
      if (sinceStop < 1 << 20) return;
      sinceStop = 0;
      // the pipes fill up meanwhile, and the service's writes wait
      child.stdout.pause();
      child.stderr.pause();
      setTimeout(() => {
        child.stdout.resume();
        child.stderr.resume();
      }, 150);
    };
    child.stdout.on('data', read(out));
    child.stderr.on('data', read(err));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
  });
}

describe('Python stdout and stderr through pipes', () => {
  it('writes everything with print, write, .buffer.write and os.write, 200,000 and 5,000,000 bytes, to a slow reader', async () => {
    const dir = await project({ 'fabricks.toml': pyToml(), 'main.py': WRITER });
    const built = await fabricks(['build', '-q', dir]);
    expect(built.status, built.stderr).toBe(0);
    for (const n of [200_000, 5_000_000]) {
      const r = await runReadingSlowly(['run', '-q', dir, '--', String(n)]);
      const want = expected(n);
      expect(r.status, r.stderr.subarray(-2000).toString()).toBe(0);
      // compared as bytes, and shown briefly: lengths first, then the first difference
      expect(r.stdout.length, `stdout for ${n}`).toBe(Buffer.byteLength(want.stdout));
      expect(r.stderr.length, `stderr for ${n}`).toBe(Buffer.byteLength(want.stderr));
      expect(r.stdout.equals(Buffer.from(want.stdout)), `stdout for ${n}`).toBe(true);
      expect(r.stderr.equals(Buffer.from(want.stderr)), `stderr for ${n}`).toBe(true);
    }
  });

  it('shows a prompt before input() waits and a printed line as soon as it ends', async () => {
    const dir = await project({
      'fabricks.toml': pyToml(),
      'main.py': 'name = input("name? ")\nprint(f"hello {name}")\nagain = input()\nprint(f"bye {again}")\n',
    });
    const seen: string[] = [];
    const r = await fabricks(['run', '-q', dir], {
      // each answer only once the service has asked: a prompt or line held back would hang here
      onStdout: (chunk, child) => {
        seen.push(chunk);
        const all = seen.join('');
        if (all === 'name? ') child.stdin!.write('Ada\n');
        if (all === 'name? hello Ada\n') child.stdin!.end('now\n');
      },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('name? hello Ada\nbye now\n');
  });
});
