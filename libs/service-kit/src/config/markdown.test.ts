import { describe, expect, it } from 'vitest';
import { code, prose, table } from './markdown.js';

describe('markdown', () => {
  it('fences code with more backticks than it holds', () => {
    expect(code('a.b')).toBe('`a.b`');
    expect(code('a`b')).toBe('``a`b``');
    expect(code('`a')).toBe('`` `a ``');
  });

  it('keeps prose on one line and escapes `<` only outside code', () => {
    expect(prose('name "http:<origin>"\n  or `<key>`')).toBe('name "http:\\<origin>" or `<key>`');
  });

  it('pads columns the way Prettier does and escapes pipes', () => {
    expect(
      table(
        ['Key', 'Type'],
        [
          ['`a`', 'x | y'],
          ['wide 漢字', 'b'],
        ],
      ),
    ).toBe(
      [
        '| Key       | Type   |',
        '| --------- | ------ |',
        '| `a`       | x \\| y |',
        '| wide 漢字 | b      |',
      ].join('\n'),
    );
  });
});
