// The HTTP server around the Express app. Node's parser refuses some requests before Express sees
// them (headers or URL too large, a broken chunked body, conflicting length headers, an unknown
// method); their answer is written here, on the raw socket, as problem+json with a stable code —
// Node's default is a bare status line.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics.js';
import type { RequestListener } from './app.js';
import { problemBody, rawProblem } from './problem.js';

/** A request line longer than this (of a refused request) is answered 414, not 431. */
const LONG_REQUEST_LINE = 8 * 1024;

/** What a parser refusal means for the client: its code and a detail. */
export function parserRefusal(err: Error & { code?: string; rawPacket?: unknown }): {
  code: ErrorCode;
  detail: string;
} {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW': {
      // The limit covers the request line and the headers together: name the URL when it is the
      // request line that is too long (no line end yet, or a very long first line).
      const raw = Buffer.isBuffer(err.rawPacket) ? err.rawPacket : undefined;
      const head = raw?.subarray(0, LONG_REQUEST_LINE + 2).toString('latin1') ?? '';
      const startsRequest = /^[A-Z]+ /.test(head);
      const eol = head.indexOf('\r\n');
      if (startsRequest && (eol < 0 || eol > LONG_REQUEST_LINE)) {
        return { code: 'uri_too_long', detail: 'the URL is longer than the server reads' };
      }
      return { code: 'headers_too_large', detail: 'the request headers are larger than allowed' };
    }
    case 'HPE_INVALID_METHOD':
      return { code: 'not_implemented', detail: 'the server does not know this HTTP method' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADERS_TIMEOUT':
      return { code: 'request_timeout', detail: 'the request did not arrive in time' };
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_CONTENT_LENGTH':
      return {
        code: 'invalid_request',
        detail: 'the body framing is broken (chunk sizes, or Content-Length and Transfer-Encoding)',
      };
    default:
      return { code: 'invalid_request', detail: 'the request is not valid HTTP/1.1' };
  }
}

export interface ListenOptions {
  port: number;
  log: Logger;
  metrics: Pick<Metrics, 'parserRefusals'>;
}

/** Serves `app` on `port` with the refusal handlers installed; resolves once listening. */
export async function listen(app: RequestListener, o: ListenOptions): Promise<Server> {
  const server = createServer(app);
  // Longer than a load balancer's idle timeout, so the balancer closes first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  // The response in progress on each socket: once its headers are out, nothing more may be written.
  const current = new WeakMap<Socket, ServerResponse>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    current.set(req.socket, res);
  });

  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable || current.get(socket)?.headersSent) {
      socket.destroy();
      return;
    }
    const { code, detail } = parserRefusal(err);
    const answer = rawProblem(code, detail);
    o.metrics.parserRefusals.inc({ status: answer.slice(9, 12) });
    // A client's malformed request is not the service's error: debug, not error.
    o.log.debug({ parserError: err.code, code }, 'request refused by the HTTP parser');
    socket.end(answer);
  });

  // Node's default for an unmet Expect is a bare 417.
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    const p = problemBody('expectation_failed', 'only Expect: 100-continue is supported', {
      requestId,
    });
    res
      .writeHead(p.status, {
        'Content-Type': 'application/problem+json',
        'Content-Length': Buffer.byteLength(p.body),
        'X-Request-Id': requestId,
        Connection: 'close',
      })
      .end(p.body);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
