// The same fetch handler run natively under Node (the baseline of npm run bench:http): imports
// a module's `export default { fetch }` and serves it with node:http on 127.0.0.1:PORT (0: free).
// Prints {"port": N} once listening.
import { createServer } from 'node:http';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [entry, port = '0'] = process.argv.slice(2);
const app = (await import(pathToFileURL(resolve(entry)).href)).default;
const server = createServer(async (req, res) => {
  const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Readable.toWeb(req);
  const request = new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers: req.headers, body, duplex: 'half' });
  const response = await app.fetch(request, process.env, { waitUntil() {}, passThroughOnException() {} });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (response.body) for await (const chunk of response.body) res.write(chunk);
  res.end();
});
server.listen(Number(port), '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
