// V8's structured stack traces, which packages read to find their caller (depd, callsites):
// with `Error.prepareStackTrace` set, `Error.captureStackTrace(obj)` and `error.stack` give what
// it returns for an array of call sites (getFileName, getLineNumber, ...). SpiderMonkey only
// has the text ("name@file:line:column" a line), so the call sites are read from it.

const FRAME = /^(.*?)@(.*):(\d+):(\d+)$/;

class CallSite {
  constructor(name, file, line, column) {
    this.name = name;
    this.file = file;
    this.line = line;
    this.column = column;
  }
  getFileName() { return this.file; }
  getLineNumber() { return this.line; }
  getColumnNumber() { return this.column; }
  getFunctionName() { return this.name || null; }
  getMethodName() { return null; }
  getTypeName() { return null; }
  getThis() { return undefined; }
  getFunction() { return undefined; }
  getEvalOrigin() { return undefined; }
  getScriptNameOrSourceURL() { return this.file; }
  isEval() { return false; }
  isNative() { return false; }
  isToplevel() { return !this.name; }
  isConstructor() { return false; }
  isAsync() { return false; }
  isPromiseAll() { return false; }
  getPromiseIndex() { return null; }
  toString() { return this.name ? `${this.name} (${this.file}:${this.line}:${this.column})` : `${this.file}:${this.line}:${this.column}`; }
}

export function callSites(text) {
  const sites = [];
  for (const line of String(text).split('\n')) {
    const m = FRAME.exec(line);
    if (m) sites.push(new CallSite(m[1], m[2], Number(m[3]), Number(m[4])));
  }
  return sites;
}

const limited = (sites) => (typeof Error.stackTraceLimit === 'number' && Error.stackTraceLimit >= 0 ? sites.slice(0, Error.stackTraceLimit) : sites);

export function installCallSites() {
  const native = Error.captureStackTrace;
  if (typeof native === 'function') {
    Error.captureStackTrace = function captureStackTrace(target, below) {
      if (typeof Error.prepareStackTrace !== 'function') return native.call(Error, target, below ?? captureStackTrace);
      const holder = {};
      native.call(Error, holder, below ?? captureStackTrace);
      const stack = Error.prepareStackTrace(target, limited(callSites(holder.stack)));
      Object.defineProperty(target, 'stack', { value: stack, writable: true, configurable: true, enumerable: false });
    };
  }
  const own = Object.getOwnPropertyDescriptor(Error.prototype, 'stack');
  if (own?.get) {
    Object.defineProperty(Error.prototype, 'stack', {
      ...own,
      get() {
        const text = own.get.call(this);
        if (typeof Error.prepareStackTrace !== 'function' || typeof text !== 'string') return text;
        return Error.prepareStackTrace(this, limited(callSites(text)));
      },
    });
  }
}
