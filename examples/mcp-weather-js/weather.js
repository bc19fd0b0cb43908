// The MCP quickstart's weather server with the official TypeScript SDK, unchanged but for the
// API's URL and key from the environment, a resource, a prompt, and Streamable HTTP as an option.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { z } from 'zod';

const NWS_API_BASE = process.env.WEATHER_API_URL || 'https://api.weather.gov';
const USER_AGENT = 'weather-app/1.0';

// A status the API answers with is "no data"; a connection refused (by the sandbox too) is
// thrown, so that the client sees the reason (the quickstart returns null for both).
async function makeNWSRequest(url) {
  const headers = { 'User-Agent': USER_AGENT, Accept: 'application/geo+json' };
  if (process.env.WEATHER_API_KEY) headers['X-Api-Key'] = process.env.WEATHER_API_KEY;
  const response = await fetch(url, { headers });
  if (!response.ok) return null;
  return await response.json();
}

function formatAlert(feature) {
  const props = feature.properties;
  return [
    `Event: ${props.event || 'Unknown'}`,
    `Area: ${props.areaDesc || 'Unknown'}`,
    `Severity: ${props.severity || 'Unknown'}`,
    `Status: ${props.status || 'Unknown'}`,
    `Headline: ${props.headline || 'No headline'}`,
    '---',
  ].join('\n');
}

const text = (t) => ({ content: [{ type: 'text', text: t }] });

function createServer() {
  const server = new McpServer({ name: 'weather', version: '1.0.0' });

  server.registerTool(
    'get_alerts',
    { description: 'Get weather alerts for a state', inputSchema: { state: z.string().length(2).describe('Two-letter state code (e.g. CA, NY)') } },
    async ({ state }) => {
      const alertsData = await makeNWSRequest(`${NWS_API_BASE}/alerts/active/area/${state.toUpperCase()}`);
      if (!alertsData) return text('Failed to retrieve alerts data');
      const features = alertsData.features || [];
      if (features.length === 0) return text(`No active alerts for ${state}`);
      return text(`Active alerts for ${state}:\n\n${features.map(formatAlert).join('\n')}`);
    },
  );

  server.registerTool(
    'get_forecast',
    {
      description: 'Get weather forecast for a location',
      inputSchema: {
        latitude: z.number().min(-90).max(90).describe('Latitude of the location'),
        longitude: z.number().min(-180).max(180).describe('Longitude of the location'),
      },
    },
    async ({ latitude, longitude }) => {
      const pointsData = await makeNWSRequest(`${NWS_API_BASE}/points/${latitude.toFixed(4)},${longitude.toFixed(4)}`);
      if (!pointsData) return text(`Failed to retrieve grid point data for coordinates: ${latitude}, ${longitude}.`);
      const forecastUrl = pointsData.properties?.forecast;
      if (!forecastUrl) return text('Failed to get forecast URL from grid point data');
      const forecastData = await makeNWSRequest(forecastUrl);
      if (!forecastData) return text('Failed to retrieve forecast data');
      const periods = forecastData.properties?.periods || [];
      if (periods.length === 0) return text('No forecast periods available');
      const formatted = periods.map((p) =>
        [
          `${p.name || 'Unknown'}:`,
          `Temperature: ${p.temperature ?? 'Unknown'}°${p.temperatureUnit || 'F'}`,
          `Wind: ${p.windSpeed || 'Unknown'} ${p.windDirection || ''}`,
          `${p.shortForecast || 'No forecast available'}`,
          '---',
        ].join('\n'),
      );
      return text(`Forecast for ${latitude}, ${longitude}:\n\n${formatted.join('\n')}`);
    },
  );

  server.registerResource(
    'states',
    'weather://states',
    { description: 'The state codes get_alerts takes (a few of them)', mimeType: 'application/json' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ CA: 'California', NY: 'New York', TX: 'Texas', WA: 'Washington' }) }] }),
  );

  server.registerPrompt(
    'weather_report',
    { description: 'Ask for a short weather report for a place', argsSchema: { location: z.string() } },
    ({ location }) => ({
      messages: [
        {
          role: 'user',
          content: { type: 'text', text: `Get the forecast for ${location} with get_forecast and any alerts for its state with get_alerts, then summarize them in three sentences.` },
        },
      ],
    }),
  );
  return server;
}

if (process.env.MCP_TRANSPORT !== 'http') await createServer().connect(new StdioServerTransport());

// Streamable HTTP, stateless: fabricks serves each request with a fresh instance, so no
// session outlives a request; a server and a transport per request, as the SDK's stateless
// examples do. JSON bodies rather than event streams: the tools send no notifications.
export default {
  async fetch(request) {
    if (new URL(request.url).pathname !== '/mcp') return new Response('Not Found\n', { status: 404 });
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await createServer().connect(transport);
    return transport.handleRequest(request);
  },
};
