import { applyEdits, findNodeAtLocation, getNodeValue, parseTree, type Edit, type Node } from 'jsonc-parser';
import type { ClientFile } from './config-file.js';
import type { McpClient, ServerEntry } from './client.js';
import { insertProperty, layoutOf, removeProperty, replaceValue } from './json-edits.js';

/** One server entry of a client's file, as it is there. */
export interface FileServer {
  name: string;
  value: unknown;
}

function serversNode(file: ClientFile, client: McpClient): Node | undefined {
  return file.root ? findNodeAtLocation(file.root, [client.serversKey]) : undefined;
}

/** The entries of the client's servers object, in file order. */
export function fileServers(file: ClientFile, client: McpClient): FileServer[] {
  return (serversNode(file, client)?.children ?? []).map((p) => ({ name: String(p.children![0]!.value), value: p.children![1] ? getNodeValue(p.children![1]) : undefined }));
}

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The file's text with server `name` set to `entry`: a new entry (with the client's extras) after
 * the others, or, for an existing one, only the fields of `entry` rewritten (fields the user added,
 * such as `env`, stay). `changed` is false when the entry already says all that.
 */
export function withServer(file: ClientFile, client: McpClient, name: string, entry: ServerEntry): { text: string; changed: boolean } {
  if (!file.root) {
    const fresh = { [client.serversKey]: { [name]: { ...entry, ...client.newEntryExtras } } };
    return { text: `${JSON.stringify(fresh, null, 2)}\n`, changed: true };
  }
  const layout = layoutOf(file.text);
  const servers = serversNode(file, client);
  let edits: Edit[];
  if (!servers) {
    edits = insertProperty(file.text, file.root, client.serversKey, { [name]: { ...entry, ...client.newEntryExtras } }, layout);
  } else {
    const existing = servers.children?.find((p) => p.children![0]!.value === name);
    const value = existing?.children?.[1];
    if (!value) {
      edits = insertProperty(file.text, servers, name, { ...entry, ...client.newEntryExtras }, layout);
    } else if (value.type !== 'object') {
      edits = replaceValue(file.text, value, { ...entry, ...client.newEntryExtras }, layout);
    } else {
      return updateFields(file, client, name, entry);
    }
  }
  return edits.length ? { text: applyEdits(file.text, edits), changed: true } : { text: file.text, changed: false };
}

/** Rewrites the fields of an existing entry one at a time, each against the text the last one left. */
function updateFields(file: ClientFile, client: McpClient, name: string, entry: ServerEntry): { text: string; changed: boolean } {
  const layout = layoutOf(file.text);
  let text = file.text;
  for (const [field, want] of Object.entries(entry)) {
    const value = findNodeAtLocation(parseTree(text, [], { allowTrailingComma: true })!, [client.serversKey, name])!;
    const prop = value.children?.find((p) => p.children![0]!.value === field);
    const edits = prop?.children?.[1]
      ? sameValue(getNodeValue(prop.children[1]), want)
        ? []
        : replaceValue(text, prop.children[1], want, layout)
      : insertProperty(text, value, field, want, layout);
    text = applyEdits(text, edits);
  }
  return { text, changed: text !== file.text };
}

/** The file's text without server `name` (unchanged if there is none). */
export function withoutServer(file: ClientFile, client: McpClient, name: string): { text: string; changed: boolean } {
  const servers = serversNode(file, client);
  const index = servers?.children?.findIndex((p) => p.children![0]!.value === name) ?? -1;
  if (!servers || index < 0) return { text: file.text, changed: false };
  return { text: applyEdits(file.text, removeProperty(file.text, servers, index)), changed: true };
}
