// What the runtime imports from the host (guest/node/wit/world.wit), each interface once: the
// other modules take these from here, so the bundle holds one import of each.
export { entrypoint, list, read } from 'fabricks:app/source@0.1.0';
export { getArguments, getEnvironment } from 'wasi:cli/environment@0.2.10';
export { exit as wasiExit } from 'wasi:cli/exit@0.2.10';
export { getStdin } from 'wasi:cli/stdin@0.2.10';
export { getStdout } from 'wasi:cli/stdout@0.2.10';
export { getStderr } from 'wasi:cli/stderr@0.2.10';
export { getDirectories } from 'wasi:filesystem/preopens@0.2.10';
export { Fields, IncomingBody, OutgoingBody, OutgoingResponse, ResponseOutparam } from 'wasi:http/types@0.2.10';
