import type { McpError } from '@modelcontextprotocol/sdk/types.js';

/**
 * An error the gateway answers a request with, its message as written: the SDK's McpError puts
 * "MCP error <code>: " before its message and sends that, and the client's McpError adds it once
 * more ("MCP error -32603: MCP error -32603: ..."). The SDK's Server sends any thrown error's
 * `code`, `message` and `data`, so this one is answered as it is.
 */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/** A server's error answer, passed on with its own code, message and data. */
export function passedOn(e: McpError): RpcError {
  return new RpcError(e.code, e.message.replace(/^MCP error -?\d+: /, ''), e.data);
}
