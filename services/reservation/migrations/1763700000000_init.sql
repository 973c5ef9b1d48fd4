-- Up Migration
CREATE TABLE events (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  capacity integer NOT NULL CHECK (capacity >= 0),
  sold integer NOT NULL DEFAULT 0,
  sale_starts_at timestamptz NULL,
  sale_ends_at timestamptz NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- With the conditional update in the worker, this is the last line of defence against oversell.
  CONSTRAINT events_sold_within_capacity CHECK (sold >= 0 AND sold <= capacity),
  CONSTRAINT events_sale_window CHECK (
    sale_starts_at IS NULL OR sale_ends_at IS NULL OR sale_ends_at > sale_starts_at
  )
);

CREATE INDEX events_created_at_idx ON events (created_at DESC);

CREATE TABLE reservations (
  id uuid PRIMARY KEY,
  event_id uuid NOT NULL REFERENCES events (id),
  user_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- One ticket per user per event, whatever Redis or a redelivery says.
  CONSTRAINT reservations_one_per_user UNIQUE (event_id, user_id)
);

-- Down Migration
DROP TABLE reservations;
DROP TABLE events;
