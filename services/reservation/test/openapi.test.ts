// Keeps /openapi.json true: every answer of every route, happy and sad, is checked against the
// document's schema for that path, method, status and media type.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reservationId } from '../src/ids.js';
import { ADMIN_TOKEN, TestEnv } from './support/env.js';
import { http, type HttpAnswer } from './support/http.js';
import { createEvent } from './support/events.js';

type Doc = {
  openapi: string;
  components: Record<string, unknown>;
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >;
};

let t: TestEnv;
let base: string;
let doc: Doc;
const DOC_ID = 'https://flashsale.dev/openapi.json';
const seen: Array<{ method: string; path: string; status: number }> = [];

// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

beforeAll(async () => {
  t = await TestEnv.create();
  base = (await t.start()).url;
  // Schemas refer to #/components/schemas/...: make the references absolute, to the document.
  const raw = (await http<Doc>(`${base}/openapi.json`)).body;
  doc = JSON.parse(
    JSON.stringify(raw).replaceAll('"#/components/', `"${DOC_ID}#/components/`),
  ) as Doc;
});
afterAll(async () => {
  await t?.cleanup();
});

function template(path: string): string | undefined {
  const p = path.split('?')[0]!;
  return Object.keys(doc.paths).find((tpl) =>
    new RegExp(`^${tpl.replace(/\{[^}]+\}/g, '[^/]+').replace(/\./g, '\\.')}$`).test(p),
  );
}

function check(method: string, path: string, r: HttpAnswer<unknown>, ajv: Ajv2020): void {
  const tpl = template(path);
  expect(tpl, `${method} ${path} is documented`).toBeDefined();
  const op = doc.paths[tpl!]![method.toLowerCase()];
  if (!op) {
    // A method the path does not have: 405 with a problem body.
    expect(r.status).toBe(405);
    const v = ajv.compile({ $ref: `${DOC_ID}#/components/schemas/Problem` });
    expect(v(r.body), JSON.stringify(v.errors)).toBe(true);
    seen.push({ method: method.toLowerCase(), path: tpl!, status: r.status });
    return;
  }
  const resp = op!.responses[String(r.status)];
  expect(resp, `${method} ${tpl} documents status ${r.status}`).toBeDefined();
  const mediaType = r.contentType.split(';')[0]!.trim();
  const media = resp!.content?.[mediaType];
  expect(media, `${method} ${tpl} ${r.status} documents ${mediaType}`).toBeDefined();
  const validate = ajv.compile(media!.schema as object);
  const ok = validate(r.body);
  expect(
    ok,
    `${method} ${path} ${r.status}: ${JSON.stringify(validate.errors)} body ${JSON.stringify(r.body)}`,
  ).toBe(true);
  seen.push({ method: method.toLowerCase(), path: tpl!, status: r.status });
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 and describes every answer the routes give', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: DOC_ID, components: doc.components });
    const call = async (method: string, path: string, init: Parameters<typeof http>[1] = {}) => {
      const r = await http<unknown>(`${base}${path}`, { method, ...init });
      check(method, path, r, ajv);
      return r;
    };

    const e = await call('POST', '/v1/events', {
      body: { name: 'doc', capacity: 1 },
      token: ADMIN_TOKEN,
    });
    const id = (e.body as { id: string }).id;
    await call('POST', '/v1/events', { body: { name: 'doc', capacity: 0 }, token: ADMIN_TOKEN });
    await call('POST', '/v1/events', { body: { name: 'doc', capacity: 1 } });
    await call('POST', '/v1/events', {
      raw: 'x',
      headers: { 'content-type': 'text/plain' },
      token: ADMIN_TOKEN,
    });
    await call('POST', '/v1/events', {
      body: { name: 'x'.repeat(9000), capacity: 1 },
      token: ADMIN_TOKEN,
    });
    await call('GET', '/v1/events');
    await call('GET', '/v1/events?limit=0');
    await call('DELETE', '/v1/events');
    await call('GET', `/v1/events/${id}`);
    await call('GET', '/v1/events/00000000-0000-4000-8000-000000000000');
    await call('GET', '/v1/events/bad');
    await call('POST', `/v1/events/${id}/reservations`, { body: { userId: 'u1' } });
    await call('POST', `/v1/events/${id}/reservations?wait=20000`, { body: { userId: 'u1' } });
    const won = await createEvent(base, { capacity: 5 });
    await call('POST', `/v1/events/${won.id}/reservations?wait=20000`, { body: { userId: 'w' } });
    await call('POST', `/v1/events/${id}/reservations?wait=20000`, { body: { userId: 'u2' } });
    await call('POST', `/v1/events/${id}/reservations`, { body: { userId: 'u3' } });
    await call('POST', `/v1/events/${id}/reservations`, { body: { userId: 'u1' } });
    await call('POST', `/v1/events/${id}/reservations`, { body: {} });
    await call('POST', `/v1/events/${id}/reservations`, {
      body: { userId: 'x', pad: 'y'.repeat(9000) },
    });
    await call('POST', `/v1/events/${id}/reservations`, {
      raw: 'x',
      headers: { 'content-type': 'text/plain' },
    });
    await call('POST', '/v1/events/00000000-0000-4000-8000-000000000000/reservations', {
      body: { userId: 'u' },
    });
    const later = await createEvent(base, {
      saleStartsAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    await call('POST', `/v1/events/${later.id}/reservations`, { body: { userId: 'u' } });
    const over = await createEvent(base, {
      saleStartsAt: new Date(Date.now() - 7200_000).toISOString(),
      saleEndsAt: new Date(Date.now() - 3600_000).toISOString(),
    });
    await call('POST', `/v1/events/${over.id}/reservations`, { body: { userId: 'u' } });
    await call('GET', `/v1/events/${id}/audit`, { token: ADMIN_TOKEN });
    await call('GET', `/v1/events/${id}/audit`);
    await call('GET', '/v1/events/00000000-0000-4000-8000-000000000000/audit', {
      token: ADMIN_TOKEN,
    });
    await call('GET', `/v1/reservations/${reservationId(id, 'u1')}`);
    await call('GET', `/v1/reservations/${reservationId(id, 'u2')}`);
    await call('GET', `/v1/reservations/${reservationId(id, 'nobody')}`);
    await call('GET', '/v1/reservations/zzz');
    await call('GET', '/healthz');
    await call('GET', '/readyz');
    await call('GET', '/metrics');
    await call('GET', '/openapi.json');

    // Every documented operation was exercised with a 2xx answer.
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        expect(
          seen.some((s) => s.path === path && s.method === method && s.status < 300),
          `${method} ${path} answered 2xx in this test`,
        ).toBe(true);
      }
    }
    const statuses = new Set(seen.map((s) => s.status));
    for (const s of [200, 201, 202, 400, 401, 404, 405, 409, 413, 415])
      expect(statuses).toContain(s);
  });
});
