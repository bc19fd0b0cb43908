import { greeting } from './greet.js';

const args = process.argv.slice(2);
console.log(greeting(args[0] ?? 'world'));
process.stdout.write(`arguments: ${JSON.stringify(args)}\n`);
