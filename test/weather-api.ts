import { createServer, type Server } from 'node:http';

/**
 * A stand-in for the weather API the weather examples call (api.weather.gov's paths) on a
 * loopback port: every request's path and X-Api-Key header is kept in `seen`.
 */
export interface WeatherApi {
  url: string;
  port: number;
  seen: Array<{ path: string; key: string | undefined }>;
  server: Server;
}

export async function startWeatherApi(): Promise<WeatherApi> {
  const seen: WeatherApi['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', key: req.headers['x-api-key'] as string | undefined });
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    res.setHeader('content-type', 'application/geo+json');
    if (req.url?.startsWith('/points/')) return void res.end(JSON.stringify({ properties: { forecast: `${base}/gridpoints/LWX/97,71/forecast` } }));
    if (req.url?.endsWith('/forecast')) {
      const period = { name: 'Tonight', temperature: 51, temperatureUnit: 'F', windSpeed: '5 mph', windDirection: 'SW', shortForecast: 'Clear', detailedForecast: 'Clear skies.' };
      return void res.end(JSON.stringify({ properties: { periods: [period] } }));
    }
    if (req.url?.startsWith('/alerts/active/area/')) return void res.end(JSON.stringify({ features: [] }));
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, port, seen, server };
}
