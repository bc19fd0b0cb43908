import { clientIds } from '../clients/catalogue.js';

/** The MCP clients `fabricks mcp add/ls/rm` know, for the command line's choices (cheap to load: no parser). */
export const MCP_CLIENT_IDS: readonly string[] = clientIds();
