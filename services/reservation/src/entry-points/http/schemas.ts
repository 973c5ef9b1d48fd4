// Request validation. Bodies are strict (unknown fields are rejected), so a typo never passes.
import { z } from 'zod';
import { ValidationError } from '../../errors.js';

/**
 * A userId: 1..128 characters of A-Z a-z 0-9 and . _ - : @ (no spaces, no other unicode), so it
 * is safe in logs, Redis keys, NATS message ids and URLs.
 */
export const USER_ID_PATTERN = '^[A-Za-z0-9._:@-]{1,128}$';

export const uuidParam = z
  .string()
  .regex(
    /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    'must be a UUID',
  )
  .transform((s) => s.toLowerCase());

const isoDateTime = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

/** The body of POST /v1/events; `now` (ms) refuses a sale that is over before it is created. */
export const createEventBody = (now: number) =>
  z
    .strictObject({
      name: z
        .string()
        .trim()
        .min(1)
        .max(200)
        .refine((s) => !/\p{Cc}/u.test(s), 'must not contain control characters'),
      capacity: z.number().int().min(1).max(10_000_000),
      saleStartsAt: isoDateTime.nullable().optional(),
      saleEndsAt: isoDateTime.nullable().optional(),
    })
    .refine((b) => !b.saleStartsAt || !b.saleEndsAt || b.saleEndsAt > b.saleStartsAt, {
      message: 'saleEndsAt must be after saleStartsAt',
      path: ['saleEndsAt'],
    })
    .refine((b) => !b.saleEndsAt || b.saleEndsAt.getTime() > now, {
      message: 'saleEndsAt must be in the future (the sale would be over on arrival)',
      path: ['saleEndsAt'],
    });

export const reservationBody = z.strictObject({
  userId: z.string().regex(new RegExp(USER_ID_PATTERN), 'must be 1-128 of A-Z a-z 0-9 . _ - : @'),
});

export const waitQuery = (maxMs: number) =>
  z.strictObject({
    wait: z
      .string()
      .regex(/^\d{1,6}$/, 'must be a whole number of milliseconds')
      .transform((s) => Math.min(Number(s), maxMs))
      .optional(),
  });

export const listQuery = z.strictObject({
  limit: z
    .string()
    .regex(/^\d{1,3}$/)
    .transform(Number)
    .pipe(z.number().int().min(1).max(500))
    .optional(),
});

/** Parses or throws a ValidationError naming each problem. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({
    path: [what, ...i.path.map(String)].join('.'),
    message: i.message,
  }));
  throw new ValidationError(
    `invalid ${what}: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
    issues,
  );
}
