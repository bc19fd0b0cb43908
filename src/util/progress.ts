/** Typed progress events: the core emits them, the CLI chooses how (or whether) to show them. */
export type ProgressEvent =
  | { kind: 'start'; step: string; message: string }
  | { kind: 'done'; step: string; message: string; ms: number }
  | { kind: 'info'; message: string };

export type Reporter = (event: ProgressEvent) => void;

export const silentReporter: Reporter = () => {};

/** Plain lines on stderr: stdout stays for results. */
export function stderrReporter(stream: NodeJS.WritableStream = process.stderr): Reporter {
  return (e) => {
    if (e.kind === 'start') stream.write(`  ${e.message} ...\n`);
    else if (e.kind === 'done') stream.write(`  ${e.message} (${formatMs(e.ms)})\n`);
    else stream.write(`  ${e.message}\n`);
  };
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
