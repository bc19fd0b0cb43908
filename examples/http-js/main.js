// A Hono app served by `fabricks run`: Hono's app is a Web-standard fetch handler, and
// `export default app` is what the runtime serves (as on Cloudflare Workers, Deno and Bun).
import { Hono } from 'hono';

const app = new Hono();

app.get('/', (c) => c.text('Hello from Hono in a WebAssembly component\n'));

app.get('/hello/:name', (c) => c.json({ hello: c.req.param('name') }));

// POST a body, get it back with its length.
app.post('/echo', async (c) => {
  const body = await c.req.text();
  return c.json({ length: body.length, body });
});

// A streamed response: three lines, one every 100 ms.
app.get('/stream', () => {
  const encoder = new TextEncoder();
  let n = 0;
  const body = new ReadableStream({
    async pull(controller) {
      if (n === 3) return controller.close();
      await new Promise((r) => setTimeout(r, 100));
      controller.enqueue(encoder.encode(`line ${++n}\n`));
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
});

export default app;
