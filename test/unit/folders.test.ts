import { describe, expect, it } from 'vitest';
import { joinInside } from '../../src/engine/folders.js';

/** Paths inside a mount are joined lexically; anything that would leave the mount is refused. */
describe('joinInside', () => {
  it('joins inside the mount', () => {
    expect(joinInside('', 'a/b.txt')).toBe('a/b.txt');
    expect(joinInside('a', 'b/./c//d')).toBe('a/b/c/d');
    expect(joinInside('a/b', '../c')).toBe('a/c');
    expect(joinInside('', '.')).toBe('.');
    expect(joinInside('a', '..')).toBe('.');
  });

  it('refuses .. past the mount root and absolute paths', () => {
    expect(() => joinInside('', '..')).toThrow();
    expect(() => joinInside('a', '../../etc/passwd')).toThrow();
    expect(() => joinInside('a/b', 'c/../../../../x')).toThrow();
    expect(() => joinInside('', '/etc/passwd')).toThrow();
    expect(() => joinInside('a', '//etc')).toThrow();
  });
});
