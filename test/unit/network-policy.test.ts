import { describe, expect, it } from 'vitest';
import { grantHint, NetworkPolicy } from '../../src/engine/network-policy.js';

const policy = new NetworkPolicy(['api.weather.gov', '*.githubusercontent.com:443', '127.0.0.1:8081', '10.0.0.0/8', '10.1.2.0/24:5432', 'fd00::/8']);

describe('[capabilities.network] connect, asked', () => {
  it('allows a host as written on the web ports, and only those, unless a port is named', () => {
    expect(policy.checkName('api.weather.gov', 443).allowed).toBe(true);
    expect(policy.checkName('API.weather.gov.', 80).allowed).toBe(true);
    expect(policy.checkName('api.weather.gov', 8443)).toEqual({ allowed: false, reason: 'network access to api.weather.gov:8443 is not granted' });
    expect(policy.checkName('weather.gov', 443).allowed).toBe(false);
    expect(policy.checkName('evil-api.weather.gov', 443).allowed).toBe(false);
  });

  it('takes *.domain for subdomains only, with the port it names', () => {
    expect(policy.checkName('raw.githubusercontent.com', 443).allowed).toBe(true);
    expect(policy.checkName('raw.githubusercontent.com', 80).allowed).toBe(false);
    expect(policy.checkName('githubusercontent.com', 443).allowed).toBe(false);
    expect(policy.checkName('raw.githubusercontent.com.evil.com', 443).allowed).toBe(false);
  });

  it('takes addresses and blocks, any port unless one is named', () => {
    expect(policy.checkName('127.0.0.1', 8081).allowed).toBe(true);
    expect(policy.checkName('127.0.0.1', 8080).allowed).toBe(false);
    expect(policy.checkName('10.200.3.4', 22).allowed).toBe(true);
    expect(policy.checkName('[fd00::1]', 9000).allowed).toBe(true);
    expect(policy.checkName('192.168.1.1', 80).allowed).toBe(false);
  });

  it('refuses a granted name that resolves to an internal address no rule covers', () => {
    expect(policy.checkAddress('api.weather.gov', '23.1.2.3', 443).allowed).toBe(true);
    expect(policy.checkAddress('api.weather.gov', '127.0.0.1', 443)).toEqual({ allowed: false, reason: 'network access to api.weather.gov:443 is not granted: it resolves to 127.0.0.1, an internal address' });
    expect(policy.checkAddress('api.weather.gov', '192.168.0.10', 443).allowed).toBe(false);
    expect(policy.checkAddress('api.weather.gov', '::1', 443).allowed).toBe(false);
    // a block rule covers it
    expect(policy.checkAddress('db.internal', '10.1.2.3', 5432).allowed).toBe(true);
  });

  it('grants nothing when nothing is declared, and says what to add', () => {
    const none = new NetworkPolicy([]);
    expect(none.checkName('example.com', 443).allowed).toBe(false);
    expect(grantHint('example.com', 443)).toBe('add "example.com:443" (or a rule that covers it) to [capabilities.network] connect in fabricks.toml');
    expect(grantHint('::1', 80)).toContain('"[::1]:80"');
  });
});
