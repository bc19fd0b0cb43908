// The corpus: published npm MCP servers, pinned by ./package-lock.json and run unmodified, each
// with what to ask it. Shared by test/integration/npm-corpus.test.ts and scripts/bench-corpus.mjs.
//
// A server is
//   id        short name (the fabricks project's name is corpus-<id>)
//   package   the npm package, and bin: its bin file, which is the fabricks entrypoint
//   args      (data) => argv after the entrypoint
//   files     files the server is given in its data folder (mounted at /data under fabricks,
//             the host folder natively), and mode: the mount's mode
//   env       (data) => variables that are no secret ([capabilities.env] set)
//   secrets   dummy API keys, passed from the host ([capabilities.env] allow, by exact name)
//   tools     names tools/list must include
//   calls     tool calls that need no network, in order: { name, arguments: (data) => ...,
//             expect: a RegExp the result's text must match }
//   denied    for a server that calls an API: a call whose request must be refused by fabricks
//             for want of a [capabilities.network] connect rule naming `host`
//   http      for a server that can serve MCP over HTTP: args for each of its transports
//             (streamableHttp, sse), the paths they serve, and `port`: the variable naming its port
// `data` is the path the server sees: /data under fabricks, the host folder natively.

/** A value for an API key that no service accepts, in the shape the servers check (three dot-separated parts for Mapbox). */
const DUMMY = 'fabricks-corpus-dummy';

/** @type {import('./servers.d.mts').CorpusServer[]} */
export const servers = [
  // The MCP project's reference servers
  {
    id: 'filesystem',
    package: '@modelcontextprotocol/server-filesystem',
    bin: 'dist/index.js',
    args: (data) => [data],
    files: { 'hello.txt': 'hello from the corpus\n', 'sub/deeper.txt': 'deeper\n' },
    mode: 'rw',
    tools: ['read_text_file', 'write_file', 'list_directory', 'directory_tree'],
    calls: [
      { name: 'read_text_file', arguments: (data) => ({ path: `${data}/hello.txt` }), expect: /hello from the corpus/ },
      { name: 'list_directory', arguments: (data) => ({ path: data }), expect: /\[FILE\] hello\.txt[\s\S]*\[DIR\] sub/ },
      { name: 'write_file', arguments: (data) => ({ path: `${data}/written.txt`, content: 'written by the server' }), expect: /Successfully wrote/ },
      { name: 'read_text_file', arguments: (data) => ({ path: `${data}/written.txt` }), expect: /^written by the server$/ },
      { name: 'read_text_file', arguments: () => ({ path: '/etc/passwd' }), expect: /Access denied|outside allowed directories/i },
    ],
  },
  {
    id: 'memory',
    package: '@modelcontextprotocol/server-memory',
    bin: 'dist/index.js',
    files: {},
    mode: 'rw',
    env: (data) => ({ MEMORY_FILE_PATH: `${data}/memory.jsonl` }),
    tools: ['create_entities', 'read_graph', 'search_nodes'],
    calls: [
      { name: 'create_entities', arguments: () => ({ entities: [{ name: 'Ada', entityType: 'person', observations: ['wrote the first program'] }] }), expect: /"name": ?"Ada"/ },
      { name: 'search_nodes', arguments: () => ({ query: 'first program' }), expect: /Ada/ },
    ],
  },
  {
    id: 'everything',
    package: '@modelcontextprotocol/server-everything',
    bin: 'dist/index.js',
    args: () => ['stdio'],
    http: { args: { streamableHttp: ['streamableHttp'], sse: ['sse'] }, paths: { streamableHttp: '/mcp', sse: '/sse' }, port: 'PORT' },
    tools: ['echo', 'get-sum', 'get-tiny-image'],
    calls: [
      { name: 'echo', arguments: () => ({ message: 'hi from fabricks' }), expect: /^Echo: hi from fabricks$/ },
      { name: 'get-sum', arguments: () => ({ a: 2, b: 3 }), expect: /The sum of 2 and 3 is 5/ },
    ],
  },
  {
    id: 'sequential-thinking',
    package: '@modelcontextprotocol/server-sequential-thinking',
    bin: 'dist/index.js',
    tools: ['sequentialthinking'],
    calls: [{ name: 'sequentialthinking', arguments: () => ({ thought: 'first, list the servers', nextThoughtNeeded: true, thoughtNumber: 1, totalThoughts: 2 }), expect: /"thoughtNumber": ?1[\s\S]*"totalThoughts": ?2/ }],
  },
  {
    id: 'github',
    package: '@modelcontextprotocol/server-github',
    bin: 'dist/index.js',
    secrets: { GITHUB_PERSONAL_ACCESS_TOKEN: DUMMY },
    tools: ['search_repositories', 'get_file_contents', 'create_issue'],
    denied: { name: 'search_repositories', arguments: { query: 'webassembly' }, host: 'api.github.com' },
  },
  {
    id: 'slack',
    package: '@modelcontextprotocol/server-slack',
    bin: 'dist/index.js',
    env: () => ({ SLACK_TEAM_ID: 'T00000000' }),
    secrets: { SLACK_BOT_TOKEN: DUMMY },
    tools: ['slack_list_channels', 'slack_post_message'],
    denied: { name: 'slack_list_channels', arguments: {}, host: 'slack.com' },
  },
  {
    id: 'brave-search',
    package: '@modelcontextprotocol/server-brave-search',
    bin: 'dist/index.js',
    secrets: { BRAVE_API_KEY: DUMMY },
    tools: ['brave_web_search', 'brave_local_search'],
    denied: { name: 'brave_web_search', arguments: { query: 'webassembly' }, host: 'api.search.brave.com' },
  },
  {
    id: 'gitlab',
    package: '@modelcontextprotocol/server-gitlab',
    bin: 'dist/index.js',
    secrets: { GITLAB_PERSONAL_ACCESS_TOKEN: DUMMY },
    tools: ['search_repositories', 'create_issue'],
    denied: { name: 'search_repositories', arguments: { search: 'webassembly' }, host: 'gitlab.com' },
  },
  {
    id: 'google-maps',
    package: '@modelcontextprotocol/server-google-maps',
    bin: 'dist/index.js',
    secrets: { GOOGLE_MAPS_API_KEY: DUMMY },
    tools: ['maps_geocode', 'maps_directions'],
    denied: { name: 'maps_geocode', arguments: { address: 'Paris' }, host: 'maps.googleapis.com' },
  },
  {
    id: 'postgres',
    package: '@modelcontextprotocol/server-postgres',
    bin: 'dist/index.js',
    // the database is reached with pg over node:net, not fetch: refused all the same
    args: () => ['postgresql://corpus@127.0.0.1:5432/corpus'],
    tools: ['query'],
    denied: { name: 'query', arguments: { sql: 'select 1' }, host: '127.0.0.1' },
  },

  // Third-party servers that need no network
  {
    id: 'hello-world',
    package: 'mcp-hello-world',
    bin: 'build/stdio.js',
    tools: ['echo', 'add'],
    calls: [
      { name: 'echo', arguments: () => ({ message: 'hi' }), expect: /^You said: hi$/ },
      { name: 'add', arguments: () => ({ a: 2, b: 3 }), expect: /The sum is: 5/ },
    ],
  },
  {
    id: 'time',
    package: 'time-mcp',
    bin: 'dist/index.js',
    tools: ['current_time', 'convert_time', 'days_in_month'],
    calls: [
      { name: 'days_in_month', arguments: () => ({ date: '2024-02-10' }), expect: /29/ },
      // time zones come from Intl in dayjs: the runtime's Intl is the prelude's (docs/javascript.md)
      { name: 'convert_time', arguments: () => ({ sourceTimezone: 'UTC', targetTimezone: 'Asia/Tokyo', time: '2025-01-01 00:00:00' }), expect: /Asia\/Tokyo is 2025-01-01 09:00:00/ },
    ],
  },
  {
    id: 'calc',
    package: '@coo-quack/calc-mcp',
    bin: 'dist/index.js',
    tools: ['math', 'hash', 'base64', 'regex'],
    calls: [
      { name: 'math', arguments: () => ({ expression: '2*(3+4)' }), expect: /^14$/ },
      { name: 'hash', arguments: () => ({ input: 'abc', algorithm: 'sha256' }), expect: /ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad/ },
    ],
  },
  {
    id: 'mapbox',
    package: '@mapbox/mcp-server',
    bin: 'dist/esm/index.js',
    // Mapbox's tools check the token has a JWT's three parts before calling
    secrets: { MAPBOX_ACCESS_TOKEN: 'pk.eyJ1IjoiZmFicmlja3MtY29ycHVzIn0.dummy' },
    tools: ['distance_tool', 'area_tool', 'reverse_geocode_tool'],
    calls: [{ name: 'distance_tool', arguments: () => ({ from: { longitude: 2.3522, latitude: 48.8566 }, to: { longitude: -0.1276, latitude: 51.5072 }, units: 'kilometers' }), expect: /Distance: 343\.5\d kilometers/ }],
    denied: { name: 'reverse_geocode_tool', arguments: { longitude: 2.3522, latitude: 48.8566 }, host: 'api.mapbox.com' },
  },

  // Third-party servers that call an API
  {
    id: 'context7',
    package: '@upstash/context7-mcp',
    bin: 'dist/index.js',
    tools: ['resolve-library-id', 'query-docs'],
    denied: { name: 'resolve-library-id', arguments: { query: 'routing', libraryName: 'hono' }, host: 'context7.com' },
  },
  {
    id: 'chart',
    package: '@antv/mcp-server-chart',
    bin: 'build/index.js',
    tools: ['generate_pie_chart', 'generate_bar_chart'],
    denied: { name: 'generate_pie_chart', arguments: { data: [{ category: 'a', value: 1 }, { category: 'b', value: 2 }] }, host: 'antv-studio.alipay.com' },
  },
  {
    id: 'airbnb',
    package: '@openbnb/mcp-server-airbnb',
    bin: 'dist/index.js',
    tools: ['airbnb_search', 'airbnb_listing_details'],
    denied: { name: 'airbnb_search', arguments: { location: 'Paris' }, host: 'www.airbnb.com' },
  },
  {
    id: 'tavily',
    package: 'tavily-mcp',
    bin: 'build/index.js',
    secrets: { TAVILY_API_KEY: DUMMY },
    tools: ['tavily_search', 'tavily_extract'],
    denied: { name: 'tavily_search', arguments: { query: 'webassembly' }, host: 'api.tavily.com' },
  },
  {
    id: 'exa',
    package: 'exa-mcp-server',
    bin: 'dist/stdio.cjs',
    secrets: { EXA_API_KEY: DUMMY },
    tools: ['web_search_exa'],
    denied: { name: 'web_search_exa', arguments: { query: 'webassembly' }, host: 'api.exa.ai' },
  },
  {
    id: 'firecrawl',
    package: 'firecrawl-mcp',
    bin: 'dist/index.js',
    secrets: { FIRECRAWL_API_KEY: `fc-${DUMMY}` },
    tools: ['firecrawl_scrape', 'firecrawl_search'],
    denied: { name: 'firecrawl_scrape', arguments: { url: 'https://example.com' }, host: 'api.firecrawl.dev' },
  },
  {
    id: 'notion',
    package: '@notionhq/notion-mcp-server',
    bin: 'bin/cli.mjs',
    secrets: { NOTION_TOKEN: DUMMY },
    tools: ['API-get-self', 'API-post-search'],
    denied: { name: 'API-get-self', arguments: {}, host: 'api.notion.com' },
  },
  {
    id: 'figma',
    package: 'figma-developer-mcp',
    bin: 'dist/bin.js',
    args: () => ['--stdio'],
    secrets: { FIGMA_API_KEY: DUMMY },
    tools: ['get_figma_data'],
    denied: { name: 'get_figma_data', arguments: { fileKey: 'abc123' }, host: 'api.figma.com' },
  },
  {
    id: 'brave-search-v2',
    package: '@brave/brave-search-mcp-server',
    bin: 'dist/index.js',
    args: () => ['--transport', 'stdio'],
    secrets: { BRAVE_API_KEY: DUMMY },
    tools: ['brave_web_search', 'brave_local_search'],
    denied: { name: 'brave_web_search', arguments: { query: 'webassembly' }, host: 'api.search.brave.com' },
  },
  {
    id: 'perplexity',
    package: '@perplexity-ai/mcp-server',
    bin: 'dist/index.js',
    secrets: { PERPLEXITY_API_KEY: DUMMY },
    tools: ['perplexity_search', 'perplexity_ask'],
    denied: { name: 'perplexity_search', arguments: { query: 'webassembly' }, host: 'api.perplexity.ai' },
  },
];

/** Servers left out, and why (each would need what no WASI component can have). */
export const leftOut = {
  '@modelcontextprotocol/server-puppeteer': 'drives a Chrome it starts as a child process',
  '@playwright/mcp': 'drives a browser it starts as a child process',
  'mcp-obsidian': "lower-cases the vault's path before opening it, so it works only where the path has no capital letters",
  '@eslint/mcp': "loads the project's eslint.config.js with import() at run time, code that is not in the bundle",
};
