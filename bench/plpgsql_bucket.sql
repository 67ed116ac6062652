-- The same token bucket written the usual way: one table row per bucket,
-- updated in place (the peer antiban's shared-memory buckets replace).
CREATE SCHEMA bench;
CREATE TABLE bench.bucket (
    id      integer PRIMARY KEY,
    tokens  double precision NOT NULL,
    stamp   timestamptz NOT NULL
);
INSERT INTO bench.bucket SELECT i, 1000, clock_timestamp() FROM generate_series(1, 1000) i;

CREATE FUNCTION bench.try_consume(p_id integer, p_rate double precision, p_capacity double precision)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    now_ts timestamptz := clock_timestamp();
BEGIN
    UPDATE bench.bucket b
       SET tokens = least(p_capacity, b.tokens + extract(epoch FROM now_ts - b.stamp) * p_rate) - 1,
           stamp = now_ts
     WHERE b.id = p_id
       AND least(p_capacity, b.tokens + extract(epoch FROM now_ts - b.stamp) * p_rate) >= 1;
    RETURN FOUND;
END
$$;
