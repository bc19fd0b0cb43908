import { createInterface } from 'node:readline';

const prefix = process.argv[2] ?? 'echo';
let count = 0;

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  count += 1;
  process.stdout.write(`${prefix}: ${line}\n`);
});
lines.on('close', () => {
  process.stderr.write(`echoed ${count} line${count === 1 ? '' : 's'}\n`);
});
