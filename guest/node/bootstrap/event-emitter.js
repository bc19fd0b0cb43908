// A small EventEmitter (also served to bundles that import 'events' / 'node:events').

export class EventEmitter {
  constructor() {
    this._events = new Map();
  }
  on(name, fn) {
    if (!this._events.has(name)) this._events.set(name, []);
    this._events.get(name).push(fn);
    return this;
  }
  addListener(name, fn) {
    return this.on(name, fn);
  }
  prependListener(name, fn) {
    if (!this._events.has(name)) this._events.set(name, []);
    this._events.get(name).unshift(fn);
    return this;
  }
  once(name, fn) {
    const wrapper = (...args) => {
      this.off(name, wrapper);
      fn.apply(this, args);
    };
    wrapper.listener = fn;
    return this.on(name, wrapper);
  }
  off(name, fn) {
    const list = this._events.get(name);
    if (list) {
      const i = list.findIndex((l) => l === fn || l.listener === fn);
      if (i >= 0) list.splice(i, 1);
    }
    return this;
  }
  removeListener(name, fn) {
    return this.off(name, fn);
  }
  removeAllListeners(name) {
    if (name === undefined) this._events.clear();
    else this._events.delete(name);
    return this;
  }
  emit(name, ...args) {
    const list = this._events.get(name);
    if (!list || list.length === 0) {
      if (name === 'error') throw args[0];
      return false;
    }
    for (const fn of [...list]) fn.apply(this, args);
    return true;
  }
  listenerCount(name) {
    return this._events.get(name)?.length ?? 0;
  }
  listeners(name) {
    return [...(this._events.get(name) ?? [])];
  }
  setMaxListeners() {
    return this;
  }
}

export function eventsOnce(emitter, name) {
  return new Promise((resolve) => emitter.once(name, (...args) => resolve(args)));
}
