-- Up Migration
-- Seat numbers instead of a sold counter (ADR 36). Every reservation row takes the next seat of its
-- event, 1, 2, 3, ...; what is sold is the highest seat, read from the (event_id, seat) index. A
-- commit then writes one row per winner and nothing else: no counter row rewritten per batch.
-- The database alone keeps capacity: the trigger below refuses a seat past it, and the unique
-- (event_id, seat) index refuses two rows on one seat, whoever inserts.
ALTER TABLE reservations ADD COLUMN seat integer;

UPDATE reservations r
   SET seat = s.n
  FROM (SELECT id, row_number() OVER (PARTITION BY event_id ORDER BY created_at, id) AS n
          FROM reservations) s
 WHERE r.id = s.id;

ALTER TABLE reservations ALTER COLUMN seat SET NOT NULL;
ALTER TABLE reservations ADD CONSTRAINT reservations_seat_positive CHECK (seat >= 1);
ALTER TABLE reservations ADD CONSTRAINT reservations_one_per_seat UNIQUE (event_id, seat);

ALTER TABLE events DROP CONSTRAINT events_sold_within_capacity;
ALTER TABLE events DROP COLUMN sold;

-- The last line of defence against oversell, for any writer: a row gets the next seat when it
-- names none (under the event's row lock, so two writers never pick the same one), and no row may
-- sit past the event's capacity.
CREATE FUNCTION reservations_seat_guard() RETURNS trigger
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_capacity integer;
BEGIN
  SELECT e.capacity INTO v_capacity FROM events e WHERE e.id = NEW.event_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN NEW; -- the foreign key reports the missing event
  END IF;
  IF NEW.seat IS NULL THEN
    NEW.seat := coalesce((SELECT max(r.seat) FROM reservations r WHERE r.event_id = NEW.event_id), 0) + 1;
  END IF;
  IF NEW.seat > v_capacity THEN
    RAISE EXCEPTION 'seat % of event % is past its capacity %', NEW.seat, NEW.event_id, v_capacity
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER reservations_seat_guard BEFORE INSERT OR UPDATE OF seat, event_id ON reservations
  FOR EACH ROW EXECUTE FUNCTION reservations_seat_guard();

-- The worker's commit (migration 1763900000000), now with seats: under the event's row lock, the
-- users who already hold a row are confirmed again, the newcomers take the next seats in order
-- while seats remain, and the rest are refused. sold is the highest seat after the insert.
CREATE OR REPLACE FUNCTION commit_winners(
  p_event uuid,
  p_ids uuid[],
  p_users text[],
  OUT confirmed text[],
  OUT refused text[],
  OUT sold integer,
  OUT capacity integer
)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  v_had text[];
  v_fresh_ids uuid[];
  v_fresh_users text[];
  v_seats integer;
  v_take integer;
BEGIN
  -- The row lock orders the batches of one event across all workers.
  SELECT e.capacity INTO capacity FROM events e WHERE e.id = p_event FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'event % vanished', p_event USING ERRCODE = 'no_data_found';
  END IF;
  sold := coalesce((SELECT max(r.seat) FROM reservations r WHERE r.event_id = p_event), 0);
  SELECT coalesce(array_agg(r.user_id), '{}') INTO v_had
    FROM reservations r WHERE r.event_id = p_event AND r.user_id = ANY (p_users);
  -- Newcomers, each once (a redelivered message may repeat a user within a batch), in order.
  SELECT coalesce(array_agg(t.id ORDER BY t.ord), '{}'), coalesce(array_agg(t.user_id ORDER BY t.ord), '{}')
    INTO v_fresh_ids, v_fresh_users
    FROM (SELECT DISTINCT ON (u.user_id) u.id, u.user_id, u.ord
            FROM unnest(p_ids, p_users) WITH ORDINALITY AS u(id, user_id, ord)
           WHERE NOT (u.user_id = ANY (v_had))
           ORDER BY u.user_id, u.ord) t;
  v_seats := greatest(0, capacity - sold);
  v_take := least(v_seats, cardinality(v_fresh_users));
  refused := coalesce(v_fresh_users[v_take + 1:], '{}');
  IF v_take > 0 THEN
    INSERT INTO reservations (id, event_id, user_id, seat)
    SELECT u.id, p_event, u.user_id, sold + u.ord
      FROM unnest(v_fresh_ids[1:v_take], v_fresh_users[1:v_take]) WITH ORDINALITY AS u(id, user_id, ord);
    sold := sold + v_take;
  END IF;
  confirmed := v_had || v_fresh_users[1:v_take];
END
$$;

-- Down Migration
CREATE OR REPLACE FUNCTION commit_winners(
  p_event uuid,
  p_ids uuid[],
  p_users text[],
  OUT confirmed text[],
  OUT refused text[],
  OUT sold integer,
  OUT capacity integer
)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  v_had text[];
  v_fresh_ids uuid[];
  v_fresh_users text[];
  v_seats integer;
  v_inserted text[] := '{}';
BEGIN
  SELECT e.capacity, e.sold INTO capacity, sold FROM events e WHERE e.id = p_event FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'event % vanished', p_event USING ERRCODE = 'no_data_found';
  END IF;
  SELECT coalesce(array_agg(r.user_id), '{}') INTO v_had
    FROM reservations r WHERE r.event_id = p_event AND r.user_id = ANY (p_users);
  SELECT coalesce(array_agg(t.id ORDER BY t.ord), '{}'), coalesce(array_agg(t.user_id ORDER BY t.ord), '{}')
    INTO v_fresh_ids, v_fresh_users
    FROM unnest(p_ids, p_users) WITH ORDINALITY AS t(id, user_id, ord)
   WHERE NOT (t.user_id = ANY (v_had));
  v_seats := greatest(0, capacity - sold);
  refused := coalesce(v_fresh_users[v_seats + 1:], '{}');
  IF v_seats > 0 AND cardinality(v_fresh_users) > 0 THEN
    WITH ins AS (
      INSERT INTO reservations (id, event_id, user_id)
      SELECT u.id, p_event, u.user_id
        FROM unnest(v_fresh_ids[1:v_seats], v_fresh_users[1:v_seats]) AS u(id, user_id)
      ON CONFLICT DO NOTHING
      RETURNING reservations.user_id
    )
    SELECT coalesce(array_agg(ins.user_id), '{}') INTO v_inserted FROM ins;
  END IF;
  IF cardinality(v_inserted) > 0 THEN
    UPDATE events e SET sold = e.sold + cardinality(v_inserted)
     WHERE e.id = p_event AND e.sold + cardinality(v_inserted) <= e.capacity
     RETURNING e.sold INTO sold;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'conditional update of event % refused', p_event;
    END IF;
  END IF;
  confirmed := v_had || v_inserted;
END
$$;

DROP TRIGGER reservations_seat_guard ON reservations;
DROP FUNCTION reservations_seat_guard();

ALTER TABLE events ADD COLUMN sold integer NOT NULL DEFAULT 0;
UPDATE events e SET sold = (SELECT count(*) FROM reservations r WHERE r.event_id = e.id);
ALTER TABLE events ADD CONSTRAINT events_sold_within_capacity CHECK (sold >= 0 AND sold <= capacity);

ALTER TABLE reservations DROP CONSTRAINT reservations_one_per_seat;
ALTER TABLE reservations DROP CONSTRAINT reservations_seat_positive;
ALTER TABLE reservations DROP COLUMN seat;
