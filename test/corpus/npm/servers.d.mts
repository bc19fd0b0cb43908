// Types of servers.mjs and corpus.mjs for the TypeScript tests.
export interface CorpusCall {
  name: string;
  arguments: (data: string) => Record<string, unknown>;
  expect: RegExp;
}

export interface CorpusServer {
  id: string;
  package: string;
  bin: string;
  args?: (data: string) => string[];
  files?: Record<string, string>;
  mode?: 'ro' | 'rw';
  env?: (data: string) => Record<string, string>;
  secrets?: Record<string, string>;
  tools: string[];
  calls?: CorpusCall[];
  denied?: { name: string; arguments: Record<string, unknown>; host: string };
  http?: { args: Partial<Record<'streamableHttp' | 'sse', string[]>>; paths: Partial<Record<'streamableHttp' | 'sse', string>>; port: string };
}

export const servers: CorpusServer[];
export const leftOut: Record<string, string>;
