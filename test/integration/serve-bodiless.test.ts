import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fabricks, jsToml, project } from '../helpers.js';
import { serveProject, type Served } from '../serve-helpers.js';

// A response with no body (the MCP SDK answers a notification with `new Response(null, { status:
// 202 })`) is served as an empty one; preview2-shim's server used to trap on it.
const handler = `
export default {
  fetch(request) {
    const status = Number(new URL(request.url).pathname.slice(1));
    return new Response(null, { status, headers: { 'x-status': String(status) } });
  },
};
`;

describe('a JavaScript handler returning a Response without a body', () => {
  let served: Served;

  beforeAll(async () => {
    const dir = await project({
      'main.js': handler,
      'fabricks.toml': jsToml('main.js', '\n[package]\nname = "serve-bodiless"\n\n[capabilities.network]\nlisten = [8080]\n'),
    });
    const built = await fabricks(['build', '-q', dir]);
    expect(built.status, built.stderr).toBe(0);
    served = await serveProject([dir, '--listen', '127.0.0.1:0']);
  });

  afterAll(async () => {
    await served?.stop();
  });

  for (const status of [200, 202, 204, 404]) {
    it(`answers ${status} with an empty body and its headers`, async () => {
      const r = await fetch(`${served.url}/${status}`);
      expect(r.status).toBe(status);
      expect(r.headers.get('x-status')).toBe(String(status));
      expect(await r.text()).toBe('');
    });
  }

  it('keeps serving: no request trapped', () => {
    expect(served.stderr()).not.toMatch(/trapped/);
  });
});
