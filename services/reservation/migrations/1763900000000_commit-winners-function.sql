-- Up Migration
-- The worker's commit of one batch of winners, in one round trip instead of six (begin, lock, read,
-- insert, update, commit): the same steps, in the same order, inside one function call, which runs
-- as one transaction. A volatile function reads with a fresh snapshot per statement, so the holders
-- read after the row lock include every batch committed before it, as in the client-side version.
CREATE FUNCTION commit_winners(
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
  -- The row lock orders the batches of one event across all workers.
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

-- Down Migration
DROP FUNCTION commit_winners(uuid, uuid[], text[]);
