// The runtime has AbortController; readable-stream's `abort-controller` import gets that one,
// so signals from user code and from streams are the same kind.
module.exports = { AbortController: globalThis.AbortController, AbortSignal: globalThis.AbortSignal, default: globalThis.AbortController };
