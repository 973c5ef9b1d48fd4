import { describe, expect, it } from 'vitest';
import { findDuplicateKey } from './json-body.js';

describe('findDuplicateKey', () => {
  it.each([
    ['{"userId":"a","userId":"b"}', 'userId'],
    ['{"userId":"a","user\\u0049d":"b"}', 'userId'],
    ['{"a":{"b":1,"b":2}}', 'b'],
    ['[{"a":1},{"a":1,"c":[{"d":1,"d":2}]}]', 'd'],
    ['{"__proto__":{},"__proto__":{}}', '__proto__'],
    ['{"a":"x\\"y","a":1}', 'a'],
  ])('when %s repeats a key, then it names it', (text, key) => {
    expect(findDuplicateKey(text)).toBe(key);
  });

  it.each([
    '{"userId":"a"}',
    '{"a":{"a":{"a":1}},"b":["a","a"]}',
    '[{"a":1},{"a":2}]',
    '{"a":"b","b":"a","c":"\\"a\\""}',
    '{"a":1,"A":2}',
    '"a"',
    '{"a":',
  ])('when %s has no repeated key in one object, then it finds none', (text) => {
    expect(findDuplicateKey(text)).toBeUndefined();
  });
});
