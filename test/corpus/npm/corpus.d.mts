// Types of corpus.mjs for the TypeScript tests.
import type { CorpusServer } from './servers.mjs';

export const corpusDir: string;
export const GUEST_DATA: string;
export interface Command {
  command: string;
  args: string[];
  env: Record<string, string>;
  data: string;
}
export interface CallAnswer {
  name: string;
  text: string;
  isError: boolean;
  thrown?: boolean;
}
export interface Drive {
  serverInfo: { name: string; version: string } | undefined;
  tools: string[];
  calls: CallAnswer[];
  denied: CallAnswer | undefined;
  firstResultMs: number | undefined;
  failure: { step: string; message: string } | undefined;
  stderr: string;
}
export function corpusNodeModules(): Promise<string>;
export function installedVersion(modules: string, pkg: string): Promise<string>;
export function projectToml(server: CorpusServer, version: string, dataHost: string): string;
export function prepare(server: CorpusServer, modules: string, parent?: string): Promise<{ root: string; project: string; data: { fabricks: string; native: string }; version: string }>;
export function build(project: string, options?: { home?: string }): Promise<{ status: number | null; json: { module: { size: number } } | undefined; stderr: string }>;
export function nativeCommand(server: CorpusServer, modules: string, dataHost: string): Command;
export function fabricksCommand(server: CorpusServer, project: string, options?: { home?: string }): Command;
export function drive(server: CorpusServer, command: Command, options?: { timeout?: number }): Promise<Drive>;
export function refusedByFabricks(server: CorpusServer, text: string): boolean;
export function firstCause(stderr: string, otherwise?: string): string;
export function problems(server: CorpusServer, d: Drive, where: 'natively' | 'under fabricks'): string[];
export function refusedBuiltins(stderr: string): string[];
export function resetData(server: CorpusServer, folder: string): Promise<void>;
export function driveHttp(server: CorpusServer, url: string, transport: 'streamableHttp' | 'sse', options?: { timeout?: number }): Promise<Drive>;
export function startHttp(command: Omit<Command, 'data'>, ready: (output: string) => Promise<string | undefined> | string | undefined, options?: { timeout?: number }): Promise<{ url: string; output(): string; stop(): Promise<unknown> }>;
