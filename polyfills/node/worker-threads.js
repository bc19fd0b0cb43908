// node:worker_threads for bundles: the answers of Node's main thread (packages read them at load
// to decide whether they are in a worker); the runtime has one thread, so a Worker is refused
// when made.
import { refuse, refuseClass } from './unavailable.js';

const WHY = 'the runtime runs one thread; do the work with async code in this one';

export const isMainThread = true;
export const parentPort = null;
export const workerData = null;
export const threadId = 0;
export const resourceLimits = {};
export const SHARE_ENV = Symbol.for('nodejs.worker_threads.SHARE_ENV');
export const Worker = refuseClass('node:worker_threads Worker', WHY);
export const MessageChannel = globalThis.MessageChannel ?? refuseClass('node:worker_threads MessageChannel', WHY);
export const MessagePort = globalThis.MessagePort ?? refuseClass('node:worker_threads MessagePort', WHY);
export const BroadcastChannel = globalThis.BroadcastChannel ?? refuseClass('node:worker_threads BroadcastChannel', WHY);
export const receiveMessageOnPort = () => undefined;
export const markAsUntransferable = () => {};
export const isMarkedAsUntransferable = () => false;
export const moveMessagePortToContext = refuse('node:worker_threads moveMessagePortToContext()', WHY);

const environmentData = new Map();
export const getEnvironmentData = (key) => environmentData.get(key);
export const setEnvironmentData = (key, value) => void (value === undefined ? environmentData.delete(key) : environmentData.set(key, value));

export default { isMainThread, parentPort, workerData, threadId, resourceLimits, SHARE_ENV, Worker, MessageChannel, MessagePort, BroadcastChannel, receiveMessageOnPort, markAsUntransferable, isMarkedAsUntransferable, moveMessagePortToContext, getEnvironmentData, setEnvironmentData };
