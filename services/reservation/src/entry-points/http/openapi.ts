// The OpenAPI 3.1 description of the HTTP API, served at /openapi.json. test/openapi.test.ts
// checks every route's real answers against it, so it cannot drift from the code unnoticed.
import { errorCodes } from '../../errors.js';
import { USER_ID_PATTERN } from './schemas.js';

const uuid = { type: 'string', format: 'uuid' } as const;
const json = (ref: string) => ({
  'application/json': { schema: { $ref: `#/components/schemas/${ref}` } },
});
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});
const idParam = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: uuid,
});
const bearer = [{ adminToken: [] }];
const common = {
  '400': problem(
    'invalid_request: malformed id, query, header or body (a body that is not what its Content-Encoding says, JSON with a repeated key, broken chunked framing)',
  ),
  '405': problem('method_not_allowed'),
  '414': problem('uri_too_long'),
  '429': problem('rate_limited (Retry-After says when to retry)'),
  '431': problem('headers_too_large'),
  '501': problem('not_implemented: an HTTP method the server does not know'),
  '503': problem('unavailable: a dependency did not answer (Retry-After)'),
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'flashsale reservation API',
    version: '1.0.0',
    description:
      'Flash-sale ticket reservations. Requests are accepted (202) once the broker has them and decided ' +
      'asynchronously; errors are RFC 9457 problem+json with a stable `code`.',
  },
  servers: [{ url: '/' }],
  components: {
    securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Problem: {
        type: 'object',
        required: ['type', 'title', 'status', 'detail', 'code'],
        properties: {
          type: { type: 'string', format: 'uri' },
          title: { type: 'string' },
          status: { type: 'integer', minimum: 400, maximum: 599 },
          detail: { type: 'string' },
          code: {
            type: 'string',
            // The one list of codes (src/errors.ts); test/docs.test.ts checks they stay equal.
            enum: errorCodes,
          },
          requestId: { type: 'string' },
          reservationId: uuid,
          reservationStatus: { type: 'string', enum: ['confirmed', 'rejected'] },
          saleStartsAt: { type: 'string', format: 'date-time' },
          saleEndsAt: { type: 'string', format: 'date-time' },
          issues: {
            type: 'array',
            items: {
              type: 'object',
              required: ['path', 'message'],
              properties: { path: { type: 'string' }, message: { type: 'string' } },
              additionalProperties: false,
            },
          },
        },
        additionalProperties: false,
      },
      NewEvent: {
        type: 'object',
        required: ['name', 'capacity'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200 },
          capacity: { type: 'integer', minimum: 1, maximum: 10_000_000 },
          saleStartsAt: { type: ['string', 'null'], format: 'date-time' },
          saleEndsAt: { type: ['string', 'null'], format: 'date-time' },
        },
        additionalProperties: false,
      },
      Event: {
        type: 'object',
        required: [
          'id',
          'name',
          'capacity',
          'sold',
          'remaining',
          'state',
          'saleStartsAt',
          'saleEndsAt',
          'createdAt',
        ],
        properties: {
          id: uuid,
          name: { type: 'string' },
          capacity: { type: 'integer', minimum: 0 },
          sold: { type: 'integer', minimum: 0 },
          remaining: { type: 'integer', minimum: 0 },
          state: { type: 'string', enum: ['scheduled', 'open', 'sold_out', 'closed'] },
          saleStartsAt: { type: ['string', 'null'], format: 'date-time' },
          saleEndsAt: { type: ['string', 'null'], format: 'date-time' },
          createdAt: { type: 'string', format: 'date-time' },
        },
        additionalProperties: false,
      },
      EventList: {
        type: 'object',
        required: ['events'],
        properties: { events: { type: 'array', items: { $ref: '#/components/schemas/Event' } } },
        additionalProperties: false,
      },
      ReservationRequest: {
        type: 'object',
        required: ['userId'],
        properties: {
          userId: {
            type: 'string',
            pattern: USER_ID_PATTERN,
            description: '1-128 characters of A-Z a-z 0-9 . _ - : @',
          },
        },
        additionalProperties: false,
      },
      Reservation: {
        type: 'object',
        required: ['reservationId', 'eventId', 'status'],
        properties: {
          reservationId: {
            ...uuid,
            description:
              'UUIDv8: 60 bits hash of eventId, 62 bits hash of eventId:userId (the same for every retry)',
          },
          eventId: uuid,
          userId: {
            type: 'string',
            description:
              'always present, except in a rejection derived after Redis lost the request record',
          },
          status: { type: 'string', enum: ['pending', 'confirmed', 'rejected'] },
          reason: { type: 'string', enum: ['sold_out'] },
        },
        additionalProperties: false,
      },
      Audit: {
        type: 'object',
        required: [
          'eventId',
          'capacity',
          'sold',
          'reservations',
          'remainingRedis',
          'pendingInQueue',
          'duplicateHolders',
          'oversold',
          'drift',
        ],
        properties: {
          eventId: uuid,
          capacity: { type: 'integer' },
          sold: {
            type: 'integer',
            description: "the highest seat number of the event's rows in Postgres",
          },
          reservations: { type: 'integer', description: 'rows in reservations' },
          remainingRedis: {
            type: ['integer', 'null'],
            description: 'null: Redis holds no counters',
          },
          pendingInQueue: {
            type: 'integer',
            description: 'messages of the event still in the stream',
          },
          duplicateHolders: { type: 'integer' },
          oversold: {
            type: 'boolean',
            description:
              'sold > capacity, rows > capacity, or rows != sold (a gap or a shared seat)',
          },
          drift: { type: ['integer', 'null'], description: 'remainingRedis - (capacity - sold)' },
        },
        additionalProperties: false,
      },
      Health: {
        type: 'object',
        required: ['status'],
        properties: { status: { const: 'ok' } },
        additionalProperties: false,
      },
      Ready: {
        type: 'object',
        required: ['status', 'checks'],
        properties: {
          status: { enum: ['ready', 'not_ready'] },
          checks: { type: 'object', additionalProperties: { type: 'boolean' } },
        },
        additionalProperties: false,
      },
    },
  },
  paths: {
    '/v1/events': {
      post: {
        operationId: 'createEvent',
        security: bearer,
        requestBody: { required: true, content: json('NewEvent') },
        responses: {
          '201': { description: 'created', content: json('Event') },
          '401': problem('unauthorized'),
          '413': problem('payload_too_large'),
          '415': problem('unsupported_media_type'),
          ...common,
        },
      },
      get: {
        operationId: 'listEvents',
        parameters: [
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
          },
        ],
        responses: {
          '200': { description: 'newest first', content: json('EventList') },
          ...common,
        },
      },
    },
    '/v1/events/{id}': {
      get: {
        operationId: 'getEvent',
        parameters: [idParam('id', 'event id')],
        responses: {
          '200': { description: 'the event', content: json('Event') },
          '404': problem('event_not_found'),
          ...common,
        },
      },
    },
    '/v1/events/{id}/reservations': {
      post: {
        operationId: 'reserve',
        description:
          'Asks for one ticket. 202 once the broker holds the request; with ?wait the decision if it ' +
          'comes in time. A repeated click returns the same reservationId (202), or 409 already_reserved ' +
          'once the user holds a ticket, or 409 sold_out once rejected.',
        parameters: [
          idParam('id', 'event id'),
          {
            name: 'wait',
            in: 'query',
            description: 'wait up to this many ms for the decision (capped by WAIT_MAX_MS)',
            schema: { type: 'integer', minimum: 0 },
          },
        ],
        requestBody: { required: true, content: json('ReservationRequest') },
        responses: {
          '201': { description: 'confirmed while waiting', content: json('Reservation') },
          '202': { description: 'accepted, pending', content: json('Reservation') },
          '404': problem('event_not_found'),
          '409': problem('sold_out, already_reserved, sale_not_open or sale_closed'),
          '413': problem('payload_too_large'),
          '415': problem('unsupported_media_type'),
          ...common,
        },
      },
    },
    '/v1/events/{id}/audit': {
      get: {
        operationId: 'auditEvent',
        security: bearer,
        parameters: [idParam('id', 'event id')],
        responses: {
          '200': { description: 'the invariants seen from both stores', content: json('Audit') },
          '401': problem('unauthorized'),
          '404': problem('event_not_found'),
          ...common,
        },
      },
    },
    '/v1/reservations/{id}': {
      get: {
        operationId: 'getReservation',
        parameters: [idParam('id', 'reservation id')],
        responses: {
          '200': { description: 'pending, confirmed or rejected', content: json('Reservation') },
          '404': problem('reservation_not_found'),
          ...common,
        },
      },
    },
    '/healthz': {
      get: {
        operationId: 'healthz',
        responses: { '200': { description: 'alive', content: json('Health') } },
      },
    },
    '/readyz': {
      get: {
        operationId: 'readyz',
        responses: {
          '200': { description: 'dependencies reachable, consumer bound', content: json('Ready') },
          '503': { description: 'not ready', content: json('Ready') },
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        responses: {
          '200': {
            description: 'Prometheus text format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        responses: {
          '200': {
            description: 'this document',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
        },
      },
    },
  },
} as const;
