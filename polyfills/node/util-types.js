// node:util/types for bundles: the `util` package's type checks, with the ones its util.js adds
// to them only when it is loaded itself (isDate, isRegExp, isNativeError) and those Node has
// that the package lacks; a check the engine gives no way to make answers false (isProxy,
// isExternal, isKeyObject).
import packageTypes from 'util/support/types.js';

const tag = (v) => Object.prototype.toString.call(v);
const { isWebAssemblyCompiledModule, ...types } = packageTypes;

export const isDate = (v) => v instanceof Date || tag(v) === '[object Date]';
export const isRegExp = (v) => v instanceof RegExp || tag(v) === '[object RegExp]';
export const isNativeError = (v) => v instanceof Error || tag(v) === '[object Error]';
export const isExternal = () => false;
export const isProxy = () => false;
export const isKeyObject = () => false;
export const isCryptoKey = (v) => typeof CryptoKey === 'function' && v instanceof CryptoKey;
export const isModuleNamespaceObject = (v) => v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === null && v[Symbol.toStringTag] === 'Module';

const all = { ...types, isDate, isRegExp, isNativeError, isExternal, isProxy, isKeyObject, isCryptoKey, isModuleNamespaceObject };
export const {
  isArgumentsObject, isGeneratorFunction, isTypedArray, isPromise, isArrayBufferView, isUint8Array, isUint8ClampedArray, isUint16Array, isUint32Array, isInt8Array, isInt16Array, isInt32Array,
  isFloat32Array, isFloat64Array, isBigInt64Array, isBigUint64Array, isMap, isSet, isWeakMap, isWeakSet, isArrayBuffer, isDataView, isSharedArrayBuffer, isAsyncFunction, isMapIterator,
  isSetIterator, isGeneratorObject, isNumberObject, isStringObject, isBooleanObject, isBigIntObject, isSymbolObject, isBoxedPrimitive, isAnyArrayBuffer,
} = all;
export default all;
