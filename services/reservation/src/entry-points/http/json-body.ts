// The JSON body reader of the routes that take a body: UTF-8 application/json only, small, and
// strict — a repeated key is refused rather than silently letting the last value win. Whatever
// goes wrong while reading a body is the client's doing (or its network's): it always becomes a
// 4xx problem, never a 5xx.
import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import {
  AppError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../../errors.js';

/**
 * The first key that appears twice in one object of a JSON text, or undefined. Keys are compared
 * after unescaping ("a" and "\u0061" are the same key). Tolerant of invalid JSON (the parser
 * refuses that afterwards).
 */
export function findDuplicateKey(text: string): string | undefined {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const keys = stack.at(-1);
      if (expectKey && keys) {
        // Only a key with an escape needs the parser to be compared by its value.
        let key: unknown = text.slice(i + 1, j);
        if ((key as string).includes('\\')) {
          try {
            key = JSON.parse(text.slice(i, j + 1));
          } catch {
            return undefined;
          }
        }
        if (typeof key !== 'string') return undefined;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
      expectKey = false;
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = !!stack.at(-1);
    }
  }
  return undefined;
}

/** body-parser's own failure types, by what they mean for the client. */
function bodyError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { type?: unknown; status?: unknown } | null;
  const type = e?.type;
  const options = { cause: err };
  if (type === 'entity.too.large')
    return new PayloadTooLargeError('the body is larger than allowed');
  if (type === 'entity.parse.failed')
    return new ValidationError('the body is not valid JSON', [], options);
  if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
    return new UnsupportedMediaTypeError(
      'send the body as UTF-8 application/json, identity, gzip, deflate or br encoded',
      options,
    );
  }
  // Anything else happened while reading or decoding the body: it was cut short, or it is not
  // what its Content-Encoding says (zlib errors carry no type), or its length is wrong.
  return new ValidationError(
    'the body could not be read: it was cut short or is not encoded as its Content-Encoding says',
    [],
    options,
  );
}

/** Reads a JSON body (the content type is checked first, so a form or text body is a 415). */
export function jsonBody(limitBytes: number): RequestHandler {
  const parse = express.json({
    limit: limitBytes,
    strict: true,
    type: () => true,
    // Runs on the raw (decoded) bytes before JSON.parse, which would keep the last of two keys.
    verify: (_req, _res, buf, encoding) => {
      let text: string;
      if (!encoding || /^utf-?8$/i.test(encoding)) {
        text = buf.toString('utf8');
      } else {
        try {
          text = new TextDecoder(encoding).decode(buf);
        } catch {
          text = buf.toString('utf8');
        }
      }
      const key = findDuplicateKey(text);
      if (key !== undefined) {
        throw new ValidationError(`the body repeats the key "${key}"`, [
          { path: `body.${key}`, message: 'appears more than once' },
        ]);
      }
    },
  });
  return (req: Request, res: Response, next: NextFunction) => {
    if (!req.is('application/json')) {
      next(new UnsupportedMediaTypeError('send the body as application/json'));
      return;
    }
    parse(req, res, (err?: unknown) => next(err === undefined ? undefined : bodyError(err)));
  };
}
