-- The classic design's schema (the bench's baseline only): a sold counter on the event row, raised
-- in the same transaction that inserts the reservation, and one row per (event, user).
CREATE TABLE events (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  capacity integer NOT NULL CHECK (capacity >= 0),
  sold integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_sold_within_capacity CHECK (sold >= 0 AND sold <= capacity)
);

CREATE TABLE reservations (
  id uuid PRIMARY KEY,
  event_id uuid NOT NULL REFERENCES events (id),
  user_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT reservations_one_per_user UNIQUE (event_id, user_id)
);
