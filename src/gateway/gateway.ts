import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import {
  CallToolResultSchema,
  ErrorCode,
  type CallToolResult,
  type GetPromptResult,
  type Prompt,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplate,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Reporter } from '../util/progress.js';
import { passedOn, RpcError } from './rpc-error.js';
import type { AuditLog, Outcome } from './audit.js';
import type { ToolFilter } from './filters.js';
import type { Launcher } from './launcher.js';
import { prefixed, unprefixed } from './naming.js';
import type { ServerSpec } from './servers.js';
import { Upstream, type ListKind } from './upstream.js';

/** MCP's "resource not found" (the spec's -32002). */
const RESOURCE_NOT_FOUND = -32002;

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * Many MCP servers as one: the servers behind it, what it offers of theirs (tools and prompts as
 * `<server>__<name>`, resources under their own URIs), and where each request goes. Each client
 * connection is a low-level SDK Server (server.ts) that asks this one object.
 */
export class Gateway {
  readonly upstreams: Upstream[];
  private readonly byName: Map<string, Upstream>;
  private readonly connections = new Set<Server>();
  /** Settles once every server's first start has succeeded or failed. */
  private ready: Promise<unknown> = Promise.resolve();
  calls = 0;

  constructor(
    specs: ServerSpec[],
    launcher: Launcher,
    private readonly filter: ToolFilter,
    private readonly audit: AuditLog | undefined,
    report: Reporter,
  ) {
    this.upstreams = specs.map((s) => new Upstream(s, launcher, report, (kind) => this.listChanged(kind)));
    this.byName = new Map(this.upstreams.map((u) => [u.name, u]));
  }

  /** Starts every server at once; one that fails is reported and left out, the others go on. */
  start(): Promise<unknown> {
    this.ready = Promise.allSettled(this.upstreams.map((u) => u.connected()));
    return this.ready;
  }

  /** A client connection to tell when lists change, until it closes. */
  attach(server: Server): void {
    this.connections.add(server);
    const previous = server.onclose;
    server.onclose = () => {
      this.connections.delete(server);
      previous?.();
    };
  }

  private listChanged(kind: ListKind): void {
    for (const s of this.connections) {
      const send = kind === 'tools' ? s.sendToolListChanged() : kind === 'prompts' ? s.sendPromptListChanged() : s.sendResourceListChanged();
      void send.catch(() => undefined);
    }
  }

  async listTools(): Promise<Tool[]> {
    await this.ready;
    return this.upstreams.flatMap((u) => u.offer.tools.map((t) => ({ ...t, name: prefixed(u.name, t.name) })).filter((t) => this.filter.allows(t.name)));
  }

  async listPrompts(): Promise<Prompt[]> {
    await this.ready;
    return this.upstreams.flatMap((u) => u.offer.prompts.map((p) => ({ ...p, name: prefixed(u.name, p.name) })));
  }

  /** Resources keep their URIs (a tool's result may link to them); a URI two servers list is the first one's. */
  async listResources(): Promise<Resource[]> {
    await this.ready;
    const seen = new Set<string>();
    return this.upstreams.flatMap((u) => u.offer.resources.filter((r) => !seen.has(r.uri) && seen.add(r.uri)));
  }

  async listResourceTemplates(): Promise<ResourceTemplate[]> {
    await this.ready;
    const seen = new Set<string>();
    return this.upstreams.flatMap((u) => u.offer.templates.filter((t) => !seen.has(t.uriTemplate) && seen.add(t.uriTemplate)));
  }

  /** The server a prefixed name belongs to, or an error that names the servers there are. */
  private route(kind: 'tool' | 'prompt', full: string): { upstream: Upstream; name: string } {
    const parts = unprefixed(full);
    const upstream = parts && this.byName.get(parts.server);
    if (!parts || !upstream) {
      throw new RpcError(ErrorCode.InvalidParams, `unknown ${kind} "${full}": names here are <server>__<${kind}>, and the servers are ${this.upstreams.map((u) => u.name).join(', ')}`);
    }
    return { upstream, name: parts.name };
  }

  async callTool(full: string, args: Record<string, unknown> | undefined, extra: Extra): Promise<CallToolResult> {
    const at = Date.now();
    const started = performance.now();
    this.calls++;
    let server = unprefixed(full)?.server ?? '';
    let tool = unprefixed(full)?.name ?? full;
    const record = (outcome: Outcome, error?: string) => this.audit?.record({ server, tool, outcome, at, ms: performance.now() - started, error, arguments: args });
    if (this.audit?.failure) throw new RpcError(ErrorCode.InternalError, `the gateway's audit log cannot be written (${this.audit.failure}), so it lets no call through`);
    if (!this.filter.allows(full)) {
      const message = `tool "${full}" is not offered by this gateway (${this.filter.describe()})`;
      record('refused', message);
      throw new RpcError(ErrorCode.InvalidParams, message);
    }
    try {
      const { upstream, name } = this.route('tool', full);
      server = upstream.name;
      tool = name;
      const token = extra._meta?.progressToken;
      const result = (await upstream.request(
        `the call of ${name}`,
        (client, options) => client.callTool({ name, ...(args ? { arguments: args } : {}) }, CallToolResultSchema, options),
        {
          signal: extra.signal,
          // the client's progress, passed on under the token it gave
          ...(token !== undefined
            ? { onprogress: (p) => void extra.sendNotification({ method: 'notifications/progress', params: { ...p, progressToken: token } }).catch(() => undefined) }
            : {}),
        },
      )) as CallToolResult;
      record(result.isError ? 'error' : 'ok', result.isError ? textOf(result) : undefined);
      return result;
    } catch (e) {
      record('error', e instanceof Error ? e.message : String(e));
      throw e;
    }
  }

  async getPrompt(full: string, args: Record<string, string> | undefined, extra: Extra): Promise<GetPromptResult> {
    const { upstream, name } = this.route('prompt', full);
    return upstream.request(`prompt ${name}`, (client, options) => client.getPrompt({ name, ...(args ? { arguments: args } : {}) }, options), { signal: extra.signal });
  }

  /** To the server that listed the URI, else to the first whose template matches it. */
  async readResource(uri: string, extra: Extra): Promise<ReadResourceResult> {
    await this.ready;
    const upstream =
      this.upstreams.find((u) => u.offer.resources.some((r) => r.uri === uri)) ??
      this.upstreams.find((u) => u.offer.templates.some((t) => new UriTemplate(t.uriTemplate).match(uri) !== null));
    if (!upstream) throw new RpcError(RESOURCE_NOT_FOUND, `no server behind this gateway lists the resource ${uri} (servers: ${this.upstreams.map((u) => u.name).join(', ')})`, { uri });
    return upstream.request(`the read of ${uri}`, (client, options) => client.readResource({ uri }, options), { signal: extra.signal });
  }

  /** The gateway is going: the servers' ends are expected from now on. */
  stopping(): void {
    for (const u of this.upstreams) u.stopping();
  }

  async close(): Promise<void> {
    this.stopping();
    await Promise.all(this.upstreams.map((u) => u.close()));
    await this.audit?.close();
  }
}

/** A tool error's text, for the audit log (at most 500 characters). */
function textOf(result: { content?: unknown }): string {
  const content = Array.isArray(result.content) ? (result.content as Array<{ type?: string; text?: string }>) : [];
  return content
    .map((c) => (c.type === 'text' ? (c.text ?? '') : `[${c.type ?? 'content'}]`))
    .join(' ')
    .slice(0, 500);
}
