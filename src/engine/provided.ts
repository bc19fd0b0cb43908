/** What either engine gives a component, for the hint when it imports anything else. */
export const PROVIDED_IMPORTS = 'wasi:cli, wasi:clocks, wasi:random, wasi:io, wasi:filesystem (granted mounts only), wasi:http (outgoing: granted hosts only) and (denied) wasi:sockets';
