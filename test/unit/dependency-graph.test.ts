import { describe, expect, it } from 'vitest';
import { DependencyGraph } from '../../src/runtimes/python/dependency-graph.js';

// The shape of mcp 1.x's resolution: pyjwt[crypto] brings cryptography (an extra), which needs
// cffi (plain), which needs pycparser; pydantic needs pydantic-core on every path.
const graph = new DependencyGraph([
  { name: 'mcp', version: '1', requested: true, dependencies: [{ name: 'rich', extra: 'cli' }, { name: 'pydantic' }, { name: 'pyjwt' }, { name: 'jsonschema-path' }] },
  { name: 'pydantic', version: '2', requested: false, dependencies: [{ name: 'pydantic_core' }] },
  { name: 'pydantic_core', version: '2', requested: false, dependencies: [] },
  { name: 'PyJWT', version: '2', requested: false, dependencies: [{ name: 'cryptography', extra: 'crypto' }, { name: 'sphinx', extra: 'docs' }] },
  { name: 'cryptography', version: '51', requested: false, dependencies: [{ name: 'cffi' }, { name: 'bcrypt', extra: 'ssh' }] },
  { name: 'cffi', version: '2', requested: false, dependencies: [{ name: 'pycparser' }] },
  { name: 'pycparser', version: '3', requested: false, dependencies: [] },
  // rich: required through an extra (the shorter chain) and without one
  { name: 'jsonschema-path', version: '1', requested: false, dependencies: [{ name: 'rich' }] },
  { name: 'rich', version: '1', requested: false, dependencies: [] },
]);

describe('DependencyGraph', () => {
  it('tells what the project needs without any extra from what only an extra brings in', () => {
    expect(graph.required('pydantic-core')).toBe(true);
    expect(graph.required('mcp')).toBe(true);
    expect(graph.required('cryptography')).toBe(false);
    expect(graph.required('cffi')).toBe(false);
    expect(graph.required('rich')).toBe(true);
  });

  it('names the chain that brings a package in, extras as pip spells them', () => {
    expect(graph.chain('mcp')).toEqual([]);
    expect(graph.chain('pydantic_core')).toEqual(['mcp', 'pydantic']);
    expect(graph.chain('cryptography')).toEqual(['mcp', 'PyJWT[crypto]']);
    expect(graph.chain('cffi')).toEqual(['mcp', 'PyJWT[crypto]', 'cryptography']);
    // a package needed without extras is named by a chain without extras, even a longer one
    expect(graph.chain('rich')).toEqual(['mcp', 'jsonschema-path']);
  });

  it('finds what a package needs among those left out, and what is still reached without them', () => {
    expect(graph.requiresAnyOf('cryptography', new Set(['cffi']))).toBe('cffi');
    expect(graph.requiresAnyOf('PyJWT', new Set(['cryptography']))).toBeUndefined();
    expect([...graph.reachableWithout(new Set(['cffi', 'cryptography']))].sort()).toEqual(['jsonschema-path', 'mcp', 'pydantic', 'pydantic-core', 'pyjwt', 'rich']);
  });
});
