// The engine's own globals, kept before install() (globals.js) puts Node's in their place, and
// one TextEncoder for every module.

export const encoder = new TextEncoder();
export const nativeSetTimeout = globalThis.setTimeout;
export const nativeClearTimeout = globalThis.clearTimeout;
export const nativeFetch = globalThis.fetch;
export const nativeAddEventListener = globalThis.addEventListener;
