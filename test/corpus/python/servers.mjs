// The Python corpus: published PyPI MCP servers, pinned, installed from the package index at
// test time (fabricks build resolves requirements.txt) and run unmodified: the project's only
// file is the launcher pip would write for the package's console script. Driven by the official
// Python client (test/hosts/mcp_steps.py) in test/integration/python-corpus.test.ts.
//
// A server is
//   id        short name
//   requirements  the requirements.txt lines: the server pinned at its newest release, which
//             resolves the newest mcp it allows (mcp 2.3.0, with cryptography and cffi built for
//             WebAssembly); mcp pinned to 1.30.0 only where the server is written for mcp 1 but
//             admits mcp 2 (mcp-server-sqlite: mcp>=1.6.0, and mcp 2's Server has no
//             list_resources, which fails the same on the host), and in the entries written
//             before mcp 2 ran here (their requirements allow mcp 1)
//   main      the console script's module and function (from its entry_points.txt); the
//             project's entrypoint is run_server.py (mcp-server-weather's module is `main`)
//   args      argv after the entrypoint
//   mount     a read-write folder mounted at /data, and files: what it holds at the start
//   env       [capabilities.env] set
//   tools     names tools/list must include
//   calls     tool calls that need no network: { name, arguments, expect: RegExp on the text }
//   denied    a call whose request fabricks refuses for want of a [capabilities.network] connect
//             rule naming `host`
//
// Tried and not in the corpus yet (each resolved for CPython 3.14 on 2026-12-06):
//   (mcp-server-time 2026.10.19 and duckduckgo-mcp-server 0.7.0, which ask for mcp>=2, are in it
//     since mcp 2 runs: cryptography and cffi build, docs/python.md);
//   mcp-server-fetch 2026.10.24: lxml and regex are C extensions (required, no pure wheel);
//   excel-mcp-server 2.2.2: pillow (C);
//   arxiv-mcp-server 0.8.2: aiohttp, frozenlist, multidict, propcache, yarl, lxml (C);
//   fastmcp 2.14.7: PyYAML (C, required through jsonschema-path) and cryptography (through authlib);
//   fastmcp 4.2.3: builds, then stopped at mcp 2's import of cryptography (before it built);
//   wikipedia-mcp 2.0.1, unit-converter-mcp 0.1.2: PyYAML, websockets, lupa (C) through fastmcp 2;
//   mcp-simple-timeserver 3.3.2: numpy, h3, timezonefinder (C);
//   zmanim-mcp-server: a dependency (julian) has no release for this Python;
//   base64mcp: requires Python >= 3.13, and pip, run by the build machine's Python 3.11, refuses it.

/** @type {Array<Record<string, any>>} */
export const servers = [
  {
    id: 'time',
    requirements: ['mcp-server-time==2026.10.19'],
    main: ['mcp_server_time', 'main'],
    tools: ['get_current_time', 'convert_time'],
    calls: [
      { name: 'get_current_time', arguments: { timezone: 'Europe/Paris' }, expect: /"timezone": "Europe\/Paris",\s*"datetime": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00"/ },
      { name: 'convert_time', arguments: { source_timezone: 'America/New_York', time: '16:30', target_timezone: 'Asia/Tokyo' }, expect: /"datetime": "\d{4}-\d\d-\d\dT06:30:00\+09:00"/ },
    ],
  },
  {
    id: 'calculator',
    requirements: ['mcp-server-calculator==0.2.1', 'mcp==1.30.0'],
    main: ['mcp_server_calculator', 'main'],
    tools: ['calculate'],
    calls: [{ name: 'calculate', arguments: { expression: '2*(3+4)' }, expect: /^14$/ }],
  },
  {
    id: 'sqlite',
    requirements: ['mcp-server-sqlite==2025.4.25', 'mcp==1.30.0'],
    main: ['mcp_server_sqlite', 'main'],
    args: ['--db-path', '/data/test.db'],
    mount: true,
    tools: ['read_query', 'write_query', 'create_table', 'list_tables'],
    calls: [
      { name: 'create_table', arguments: { query: 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)' }, expect: /created/ },
      { name: 'write_query', arguments: { query: "INSERT INTO notes (body) VALUES ('hello')" }, expect: /'affected_rows': 1/ },
      { name: 'read_query', arguments: { query: 'SELECT * FROM notes' }, expect: /\[\{'id': 1, 'body': 'hello'\}\]/ },
    ],
  },
  {
    id: 'duckduckgo',
    requirements: ['duckduckgo-mcp-server==0.7.0'],
    main: ['duckduckgo_mcp_server.server', 'main'],
    // its own guard resolves names first (name lookups are not granted here): the host is what fabricks checks
    env: { DDG_ALLOW_PRIVATE_URLS: '1' },
    tools: ['search', 'fetch_content'],
    calls: [],
    denied: { name: 'fetch_content', arguments: { url: 'https://example.com/' }, host: 'example.com:443' },
  },
  {
    id: 'weather-server',
    requirements: ['mcp-weather-server==0.6.1', 'mcp==1.30.0'],
    main: ['mcp_weather_server', 'main'],
    tools: ['get_current_weather', 'get_current_datetime', 'convert_time'],
    calls: [
      { name: 'get_current_datetime', arguments: { timezone_name: 'Asia/Tokyo' }, expect: /"timezone": "Asia\/Tokyo",\s*"datetime": "[\d-]+T[\d:]+\+09:00"/ },
      { name: 'convert_time', arguments: { datetime_str: '2026-01-01T12:00:00', from_timezone: 'UTC', to_timezone: 'Europe/Paris' }, expect: /"converted_datetime": "2026-01-01T13:00:00\+01:00"/ },
    ],
    denied: { name: 'get_current_weather', arguments: { city: 'Paris' }, host: 'geocoding-api.open-meteo.com:443' },
  },
  {
    id: 'openweathermap',
    requirements: ['mcp-server-weather==0.1.4', 'mcp==1.30.0'],
    main: ['main', 'main'],
    args: ['--api_key', 'fabricks-corpus-dummy'],
    tools: ['query_weather'],
    calls: [],
    denied: { name: 'query_weather', arguments: { city: 'Paris' }, host: 'api.openweathermap.org:443' },
  },
  {
    id: 'text-editor',
    requirements: ['mcp-text-editor==1.0.2', 'mcp==1.30.0'],
    main: ['mcp_text_editor', 'run'],
    mount: true,
    files: { 'a.txt': 'line one\nline two\n' },
    tools: ['get_text_file_contents', 'edit_text_file_contents'],
    calls: [{ name: 'get_text_file_contents', arguments: { files: [{ file_path: '/data/a.txt', ranges: [{ start: 1 }] }] }, expect: /"content": "line one\\nline two\\n"[\s\S]*"total_lines": 2/ }],
  },
  {
    id: 'random',
    requirements: ['alevlas-random-mcp==0.1.1', 'mcp==1.30.0'],
    main: ['random_mcp.server', 'main'],
    tools: ['generate_random_int', 'generate_random_string', 'generate_uuid'],
    calls: [
      { name: 'generate_random_int', arguments: { min_value: 5, max_value: 5 }, expect: /^5$/ },
      { name: 'generate_uuid', arguments: { version: 4 }, expect: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/ },
    ],
  },
  {
    id: 'color',
    requirements: ['color-mcp-server==0.1.0', 'mcp==1.30.0'],
    main: ['color_mcp_server.server', 'main'],
    tools: ['tool_check_contrast', 'tool_get_color_info'],
    calls: [{ name: 'tool_check_contrast', arguments: { foreground: '#000000', background: '#FFFFFF' }, expect: /"contrast_ratio": 21\.0/ }],
    denied: { name: 'tool_get_color_info', arguments: { color_hex: '#FF0000' }, host: 'www.thecolorapi.com:443' },
  },
  {
    id: 'cron',
    requirements: ['cron-ai-mcp==1.0.10', 'mcp==1.30.0'],
    main: ['server', 'main'],
    tools: ['parse_cron', 'next_runs'],
    calls: [{ name: 'parse_cron', arguments: { expression: '*/5 * * * *' }, expect: /"minute": \{\s*"raw": "\*\/5",\s*"values": \[\s*0,\s*5,/ }],
  },
  {
    id: 'math',
    requirements: ['alinche-math-mcp-server==0.1.1', 'mcp==1.30.0'],
    main: ['alinche_math_mcp_server', 'main'],
    tools: ['is_prime', 'calculate_gcd'],
    calls: [
      { name: 'is_prime', arguments: { number: 7 }, expect: /^true$/ },
      { name: 'calculate_gcd', arguments: { a: 12, b: 18 }, expect: /^6$/ },
    ],
  },
];
