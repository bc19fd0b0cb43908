// node:v8 for bundles: the engine is SpiderMonkey, not V8. The heap figures packages log are
// there (zero where the runtime cannot know them, the heap limit as StarlingMonkey sets it);
// serialization, snapshots and flags are refused when used.
import { refuse, refuseClass } from './unavailable.js';

const WHY = 'the runtime\'s engine is SpiderMonkey, not V8; use JSON (or structuredClone) to copy values';
const HEAP_LIMIT = 32 * 1024 * 1024; // StarlingMonkey's JS::DefaultHeapMaxBytes (docs/javascript.md)

export const getHeapStatistics = () => ({
  total_heap_size: 0, total_heap_size_executable: 0, total_physical_size: 0, total_available_size: HEAP_LIMIT, used_heap_size: 0, heap_size_limit: HEAP_LIMIT,
  malloced_memory: 0, peak_malloced_memory: 0, does_zap_garbage: 0, number_of_native_contexts: 1, number_of_detached_contexts: 0, total_global_handles_size: 0, used_global_handles_size: 0, external_memory: 0,
});
export const getHeapSpaceStatistics = () => [];
export const getHeapCodeStatistics = () => ({ code_and_metadata_size: 0, bytecode_and_metadata_size: 0, external_script_source_size: 0, cpu_profiler_metadata_size: 0 });
export const cachedDataVersionTag = () => 0;
export const isStringOneByteRepresentation = (s) => !/[^\u0000-\u00ff]/.test(s);
export const serialize = refuse('node:v8 serialize()', WHY);
export const deserialize = refuse('node:v8 deserialize()', WHY);
export const Serializer = refuseClass('node:v8 Serializer', WHY);
export const Deserializer = refuseClass('node:v8 Deserializer', WHY);
export const DefaultSerializer = Serializer;
export const DefaultDeserializer = Deserializer;
export const setFlagsFromString = refuse('node:v8 setFlagsFromString()', WHY);
export const writeHeapSnapshot = refuse('node:v8 writeHeapSnapshot()', WHY);
export const getHeapSnapshot = refuse('node:v8 getHeapSnapshot()', WHY);
export const takeCoverage = () => {};
export const stopCoverage = () => {};
export const setHeapSnapshotNearHeapLimit = () => {};

export default { getHeapStatistics, getHeapSpaceStatistics, getHeapCodeStatistics, cachedDataVersionTag, isStringOneByteRepresentation, serialize, deserialize, Serializer, Deserializer, DefaultSerializer, DefaultDeserializer, setFlagsFromString, writeHeapSnapshot, getHeapSnapshot, takeCoverage, stopCoverage, setHeapSnapshotNearHeapLimit };
