export function greeting(name) {
  return `Hello, ${name}, from a WebAssembly component!`;
}
