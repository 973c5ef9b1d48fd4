import { describe, expect, it } from 'vitest';
import { parserRefusal } from './server.js';

const refusal = (code: string, raw?: string) =>
  parserRefusal(
    Object.assign(new Error(code), { code, ...(raw ? { rawPacket: Buffer.from(raw) } : {}) }),
  ).code;

describe('parserRefusal', () => {
  it('when the headers overflow, then a long request line is 414 and long headers are 431', () => {
    expect(refusal('HPE_HEADER_OVERFLOW', `GET /${'a'.repeat(20_000)}`)).toBe('uri_too_long');
    expect(refusal('HPE_HEADER_OVERFLOW', `GET / HTTP/1.1\r\nX: ${'a'.repeat(20_000)}`)).toBe(
      'headers_too_large',
    );
    expect(refusal('HPE_HEADER_OVERFLOW')).toBe('headers_too_large');
  });

  it('when the parser refuses for another reason, then each class has its code', () => {
    expect(refusal('HPE_INVALID_METHOD')).toBe('not_implemented');
    expect(refusal('HPE_INVALID_CHUNK_SIZE')).toBe('invalid_request');
    expect(refusal('HPE_UNEXPECTED_CONTENT_LENGTH')).toBe('invalid_request');
    expect(refusal('ERR_HTTP_REQUEST_TIMEOUT')).toBe('request_timeout');
    expect(refusal('HPE_SOMETHING_NEW')).toBe('invalid_request');
  });
});
