-- Shared by the protection pg_regress cases: a pinned clock that moves,
-- sends and Meta errors made up on the spot.
-- Move the pinned clock forward.
CREATE FUNCTION pg_temp.at(t text) RETURNS void LANGUAGE sql AS $$ SELECT set_config('antiban.pinned_now', t, false) $$;
-- n messages sent by a number now (the senders are off in pg_regress).
CREATE FUNCTION pg_temp.sent(number text, n integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    SELECT array_agg(antiban.send_template('+5521' || lpad((random() * 1e9)::bigint::text, 9, '0'), 'oferta', 'pt_BR'))
    INTO ids FROM generate_series(1, n);
    UPDATE antiban.outbox o SET state = 'sending', number_id = x.id, phone_number_id = x.phone_number_id
    FROM antiban.numbers x WHERE o.id = ANY (ids) AND x.phone_number_id = number;
    UPDATE antiban.outbox SET state = 'sent' WHERE id = ANY (ids);
END
$$;
-- The clock moves a second: what happens next is newer than the last evaluation.
CREATE FUNCTION pg_temp.tick() RETURNS void LANGUAGE sql AS $$
    SELECT set_config('antiban.pinned_now', (antiban.now() + interval '1 second')::text, false)
$$;
-- Errors Meta answered, between two ticks.
CREATE FUNCTION pg_temp.errors(number text, code integer, n integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_temp.tick();
    INSERT INTO antiban.send_errors (number_id, code, source)
    SELECT antiban.number_id_of(number), code, 'send' FROM generate_series(1, n);
    PERFORM pg_temp.tick();
END
$$;
CREATE FUNCTION pg_temp.numbers() RETURNS TABLE (phone_number_id text, health smallint, mode antiban.number_mode,
                                                rate_factor numeric, hard_block boolean, mode_forced boolean)
LANGUAGE sql AS $$
    SELECT phone_number_id, health, mode, round(rate_factor::numeric, 3), hard_block, mode_forced
    FROM antiban.numbers ORDER BY id
$$;
