import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  ErrorCode,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
  type Prompt,
  type Resource,
  type ResourceTemplate,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Reporter } from '../util/progress.js';
import { passedOn, RpcError } from './rpc-error.js';
import type { Launcher } from './launcher.js';
import type { ServerSpec } from './servers.js';

/** What a server offers, as it listed it (its own names). */
export interface Offer {
  tools: Tool[];
  prompts: Prompt[];
  resources: Resource[];
  templates: ResourceTemplate[];
}

export type ListKind = 'tools' | 'prompts' | 'resources';

/** How long a server may take to answer `initialize`: a first run may build it (a runtime: about 20 s). */
const START_TIMEOUT_MS = 10 * 60_000;
/** A tool call may take long; progress notifications from the server restart the clock. */
const CALL_TIMEOUT_MS = 10 * 60_000;
/** Restarts allowed in RESTART_WINDOW_MS before a dead server is left down (a crash loop costs a build check and a start each time). */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;
/** Pages of a list read before giving up on a server that never stops paging. */
const MAX_PAGES = 100;

/**
 * One server behind the gateway: `fabricks run <ref> [grants]` as a child process, spoken to
 * with the official SDK's Client over stdio. It is started at the gateway's start; one that
 * ends is started again on the next request that needs it, at most MAX_RESTARTS times a minute.
 */
export class Upstream {
  private client: Client | undefined;
  private starting: Promise<Client> | undefined;
  private starts: number[] = [];
  private closing = false;
  private lastEnd = '';
  /** The pid of its `fabricks run` while it runs. */
  pid: number | undefined;
  /** Its last lists: kept while it is down (it restarts on a call), empty if it never started. */
  offer: Offer = { tools: [], prompts: [], resources: [], templates: [] };

  constructor(
    readonly spec: ServerSpec,
    private readonly launcher: Launcher,
    private readonly report: Reporter,
    private readonly onListChanged: (kind: ListKind) => void,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get running(): boolean {
    return this.client !== undefined;
  }

  /** The connected client: this server's, started now if it is not running. */
  connected(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    if (this.closing) return Promise.reject(new RpcError(ErrorCode.InternalError, `server "${this.name}" is stopping with the gateway`));
    if (!this.starting) {
      const now = Date.now();
      this.starts = this.starts.filter((t) => now - t < RESTART_WINDOW_MS);
      // the first start is free; restarts are bounded
      if (this.starts.length > MAX_RESTARTS) {
        return Promise.reject(
          new RpcError(ErrorCode.InternalError, `server "${this.name}" is down: it ended or failed to start ${this.starts.length} times in the last minute (last: ${this.lastEnd || 'unknown'}); the gateway tries it again a minute after that`),
        );
      }
      this.starts.push(now);
      this.starting = this.start().finally(() => (this.starting = undefined));
    }
    return this.starting;
  }

  private async start(): Promise<Client> {
    const started = performance.now();
    const transport = new StdioClientTransport({ ...this.launcher.run(this.spec), stderr: 'pipe' });
    let pending = '';
    transport.stderr?.on('data', (d: Buffer) => {
      const lines = (pending + d.toString()).split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line.trim() !== '') this.report({ event: 'server-output', server: this.name, line });
      // a run that writes without newlines is still shown, in pieces
      if (pending.length > 8192) (this.report({ event: 'server-output', server: this.name, line: pending }), (pending = ''));
    });
    const client = new Client({ name: 'fabricks-mcp-gateway', version: '0.1.0' });
    let connected = false;
    client.onclose = () => {
      if (pending.trim() !== '') this.report({ event: 'server-output', server: this.name, line: pending });
      pending = '';
      if (this.client === client) this.client = undefined;
      this.pid = undefined;
      if (connected && !this.closing) {
        this.lastEnd = 'its process ended';
        this.report({ event: 'mcp-server', server: this.name, state: 'exited', detail: this.lastEnd });
      }
    };
    try {
      await client.connect(transport, { timeout: START_TIMEOUT_MS });
      connected = true;
      this.pid = transport.pid ?? undefined;
      this.offer = await this.lists(client);
    } catch (e) {
      this.lastEnd = e instanceof McpError ? passedOn(e).message : e instanceof Error ? e.message : String(e);
      await client.close().catch(() => undefined);
      this.report({ event: 'mcp-server', server: this.name, state: 'failed', detail: `${this.lastEnd} (fabricks run ${this.spec.ref}; its output is above)` });
      throw new RpcError(ErrorCode.InternalError, `server "${this.name}" could not be started: ${this.lastEnd}`);
    }
    for (const [schema, kind] of [
      [ToolListChangedNotificationSchema, 'tools'],
      [PromptListChangedNotificationSchema, 'prompts'],
      [ResourceListChangedNotificationSchema, 'resources'],
    ] as const) {
      client.setNotificationHandler(schema, async () => {
        this.offer = await this.lists(client).catch(() => this.offer);
        this.onListChanged(kind);
      });
    }
    this.client = client;
    this.report({ event: 'mcp-server', server: this.name, state: 'started', ...(this.pid ? { pid: this.pid } : {}), ms: Math.round(performance.now() - started), tools: this.offer.tools.length });
    // a restarted server may offer other things than before
    if (this.starts.length > 1) for (const kind of ['tools', 'prompts', 'resources'] as const) this.onListChanged(kind);
    return client;
  }

  /** Everything the server lists, every page. */
  private async lists(client: Client): Promise<Offer> {
    const caps = client.getServerCapabilities() ?? {};
    const all = async <T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>): Promise<T[]> => {
      const items: T[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < MAX_PAGES; i++) {
        const r = await page(cursor);
        items.push(...r.items);
        if (!r.nextCursor) break;
        cursor = r.nextCursor;
      }
      return items;
    };
    // a server that declares resources but not templates (or a list it does not answer) offers none of them
    const orNone = <T>(list: Promise<T[]>) => list.catch((e: unknown) => (e instanceof McpError && e.code === ErrorCode.MethodNotFound ? [] : Promise.reject(e)));
    const params = (cursor: string | undefined) => (cursor ? { cursor } : {});
    return {
      tools: caps.tools ? await orNone(all(async (c) => { const r = await client.listTools(params(c)); return { items: r.tools, nextCursor: r.nextCursor }; })) : [],
      prompts: caps.prompts ? await orNone(all(async (c) => { const r = await client.listPrompts(params(c)); return { items: r.prompts, nextCursor: r.nextCursor }; })) : [],
      resources: caps.resources ? await orNone(all(async (c) => { const r = await client.listResources(params(c)); return { items: r.resources, nextCursor: r.nextCursor }; })) : [],
      templates: caps.resources ? await orNone(all(async (c) => { const r = await client.listResourceTemplates(params(c)); return { items: r.resourceTemplates, nextCursor: r.nextCursor }; })) : [],
    };
  }

  /**
   * A request to this server (started if need be), its failures named after it: an error the
   * server answered goes back as it is; a server that ended meanwhile, or did not answer in
   * time, is an error that says so.
   */
  async request<T>(what: string, send: (client: Client, options: RequestOptions) => Promise<T>, options: RequestOptions = {}): Promise<T> {
    const client = await this.connected();
    try {
      return await send(client, { timeout: CALL_TIMEOUT_MS, resetTimeoutOnProgress: true, ...options });
    } catch (e) {
      if (e instanceof McpError && e.code === ErrorCode.ConnectionClosed) {
        throw new RpcError(ErrorCode.InternalError, `server "${this.name}" ended during ${what}; it is started again on the next call`);
      }
      if (e instanceof McpError && e.code === ErrorCode.RequestTimeout) {
        throw new RpcError(ErrorCode.InternalError, `server "${this.name}" did not answer ${what} in time`);
      }
      if (e instanceof McpError) throw passedOn(e);
      throw new RpcError(ErrorCode.InternalError, `server "${this.name}" failed ${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** From now on its end is expected (Ctrl-C reaches the servers too, in a terminal): not reported, not restarted. */
  stopping(): void {
    this.closing = true;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.starting?.catch(() => undefined);
    await this.client?.close();
    this.client = undefined;
  }
}
