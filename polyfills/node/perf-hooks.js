// node:perf_hooks for bundles: Node's performance (the runtime's global one, given marks,
// measures and their entries) and a PerformanceObserver for 'mark' and 'measure' entries, the kinds a program
// makes itself. The engine reports no gc, http or event-loop timings. Constants and histograms
// are unenv's.
import { constants, createHistogram, monitorEventLoopDelay } from 'unenv/node/perf_hooks';

export { constants, createHistogram, monitorEventLoopDelay };

const clock = globalThis.performance;
const now = () => clock.now();

export class PerformanceEntry {
  constructor(name, entryType, startTime, duration, detail) {
    this.name = name;
    this.entryType = entryType;
    this.startTime = startTime;
    this.duration = duration;
    this.detail = detail ?? null;
  }
  toJSON() {
    return { name: this.name, entryType: this.entryType, startTime: this.startTime, duration: this.duration, detail: this.detail };
  }
}
export class PerformanceMark extends PerformanceEntry {
  constructor(name, options = {}) {
    super(String(name), 'mark', options.startTime ?? now(), 0, options.detail);
  }
}
export class PerformanceMeasure extends PerformanceEntry {}

export class PerformanceObserverEntryList {
  constructor(entries) {
    this._entries = entries;
  }
  getEntries() {
    return [...this._entries];
  }
  getEntriesByType(type) {
    return this._entries.filter((e) => e.entryType === type);
  }
  getEntriesByName(name, type) {
    return this._entries.filter((e) => e.name === name && (type === undefined || e.entryType === type));
  }
}

const observers = new Set();

export class PerformanceObserver {
  static supportedEntryTypes = Object.freeze(['mark', 'measure']);
  constructor(callback) {
    if (typeof callback !== 'function') throw Object.assign(new TypeError('The "callback" argument must be of type function'), { code: 'ERR_INVALID_ARG_TYPE' });
    this._callback = callback;
    this._types = new Set();
    this._buffer = [];
    this._scheduled = false;
  }
  observe(options = {}) {
    const types = options.entryTypes ?? (options.type ? [options.type] : []);
    this._types = new Set(types.filter((t) => PerformanceObserver.supportedEntryTypes.includes(t)));
    if (this._types.size > 0) observers.add(this);
    else observers.delete(this);
  }
  disconnect() {
    observers.delete(this);
    this._buffer = [];
  }
  takeRecords() {
    const records = this._buffer;
    this._buffer = [];
    return records;
  }
  _queue(entry) {
    if (!this._types.has(entry.entryType)) return;
    this._buffer.push(entry);
    if (this._scheduled) return;
    this._scheduled = true;
    // Node delivers entries in a later task, together
    globalThis.setTimeout(() => {
      this._scheduled = false;
      if (this._buffer.length === 0 || !observers.has(this)) return;
      this._callback(new PerformanceObserverEntryList(this.takeRecords()), this);
    }, 0);
  }
}

function record(entry) {
  for (const o of observers) o._queue(entry);
  return entry;
}

function timeOf(entries, mark, name) {
  if (mark === undefined) return undefined;
  if (typeof mark === 'number') return mark;
  const found = entries.findLast?.((e) => e.name === mark && e.entryType === 'mark') ?? [...entries].reverse().find((e) => e.name === mark && e.entryType === 'mark');
  if (!found) throw Object.assign(new SyntaxError(`The "${mark}" performance mark has not been set`), { name: 'SyntaxError', code: 'ERR_INVALID_PERFORMANCE_MARK' });
  return found.startTime;
}

export class Performance {
  constructor() {
    this._entries = [];
    this.timeOrigin = clock.timeOrigin ?? Date.now() - now();
  }
  now() {
    return now();
  }
  mark(name, options) {
    const entry = new PerformanceMark(name, options);
    this._entries.push(entry);
    return record(entry);
  }
  measure(name, startOrOptions, endMark) {
    let start, end, detail;
    if (startOrOptions !== null && typeof startOrOptions === 'object') {
      start = timeOf(this._entries, startOrOptions.start, name);
      end = startOrOptions.end !== undefined ? timeOf(this._entries, startOrOptions.end, name) : startOrOptions.duration !== undefined && start !== undefined ? start + startOrOptions.duration : now();
      if (start === undefined) start = startOrOptions.duration !== undefined ? end - startOrOptions.duration : 0;
      detail = startOrOptions.detail;
    } else {
      start = timeOf(this._entries, startOrOptions, name) ?? 0;
      end = endMark !== undefined ? timeOf(this._entries, endMark, name) : now();
    }
    const entry = new PerformanceMeasure(String(name), 'measure', start, end - start, detail);
    this._entries.push(entry);
    return record(entry);
  }
  clearMarks(name) {
    this._entries = this._entries.filter((e) => e.entryType !== 'mark' || (name !== undefined && e.name !== name));
  }
  clearMeasures(name) {
    this._entries = this._entries.filter((e) => e.entryType !== 'measure' || (name !== undefined && e.name !== name));
  }
  clearResourceTimings() {}
  getEntries() {
    return [...this._entries];
  }
  getEntriesByName(name, type) {
    return this._entries.filter((e) => e.name === name && (type === undefined || e.entryType === type));
  }
  getEntriesByType(type) {
    return this._entries.filter((e) => e.entryType === type);
  }
  eventLoopUtilization() {
    return { idle: 0, active: 0, utilization: 0 };
  }
  timerify(fn) {
    return fn;
  }
  markResourceTiming() {}
  get nodeTiming() {
    return { name: 'node', entryType: 'node', startTime: 0, duration: now(), nodeStart: 0, v8Start: 0, environment: 0, bootstrapComplete: 0, loopStart: 0, loopExit: -1, idleTime: 0 };
  }
  toJSON() {
    return { timeOrigin: this.timeOrigin, nodeTiming: this.nodeTiming, eventLoopUtilization: this.eventLoopUtilization() };
  }
}

// Node's perf_hooks.performance is the global one: the runtime's, which has only now() and
// timeOrigin, gets the rest from here
const impl = new Performance();
const METHODS = ['mark', 'measure', 'clearMarks', 'clearMeasures', 'clearResourceTimings', 'getEntries', 'getEntriesByName', 'getEntriesByType', 'eventLoopUtilization', 'timerify', 'markResourceTiming', 'toJSON'];
let shared = clock;
try {
  for (const name of METHODS) if (!(name in clock)) Object.defineProperty(clock, name, { value: impl[name].bind(impl), writable: true, configurable: true });
  if (!('nodeTiming' in clock)) Object.defineProperty(clock, 'nodeTiming', { get: () => impl.nodeTiming, configurable: true });
} catch {
  shared = impl; // a global performance that cannot be extended: perf_hooks has its own
}
export const performance = shared;

export default { performance, Performance, PerformanceEntry, PerformanceMark, PerformanceMeasure, PerformanceObserver, PerformanceObserverEntryList, constants, createHistogram, monitorEventLoopDelay };
