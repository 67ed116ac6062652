-- µs per inbound text message applied as the webhook path applies it
-- (antiban.apply_messages: contact, interaction, service window, stop
-- classifier), without and then with antiban.note_lead_event after each
-- message (features, engagement, score); then what antiban.note_lead_events
-- costs per message in batches of 100 (a job catching up on the first run's
-- messages, or one call per webhook POST).  Each message from a new
-- contact, each run in one transaction (no commit cost in any).
-- Prints "apply|apply and note|batched note".
INSERT INTO antiban.wabas (waba_id, portfolio_id) VALUES ('200', 1);
INSERT INTO antiban.numbers (phone_number_id, waba_id, throughput_level) VALUES ('4000001', 1, 'HIGH');
CREATE TEMP TABLE bodies AS
SELECT row_number() OVER (ORDER BY e.id, t.n) - 1 AS k, t.body
FROM antiban.lead_training_examples e, unnest(e.texts) WITH ORDINALITY t(body, n)
WHERE e.source = 'corpus' AND e.portfolio_id IS NULL;
CREATE UNIQUE INDEX ON bodies (k);

CREATE FUNCTION pg_temp.inbound(wa text, wamid text, body text) RETURNS jsonb LANGUAGE sql
RETURN jsonb_build_object(
    'messaging_product', 'whatsapp',
    'metadata', jsonb_build_object('display_phone_number', '5511900000001', 'phone_number_id', '4000001'),
    'contacts', jsonb_build_array(jsonb_build_object('wa_id', wa, 'profile', jsonb_build_object('name', 'Lead'))),
    'messages', jsonb_build_array(jsonb_build_object('from', wa, 'id', wamid,
        'timestamp', extract(epoch FROM now())::bigint::text, 'type', 'text', 'text', jsonb_build_object('body', body))));

CREATE FUNCTION pg_temp.run(n int, prefix text, note boolean) RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz := clock_timestamp();
    nbodies bigint := (SELECT count(*) FROM bodies);
    b text;
    wa text;
    contact bigint;
BEGIN
    FOR i IN 1 .. n LOOP
        SELECT body INTO b FROM bodies WHERE k = i % nbodies;
        wa := prefix || lpad(i::text, 8, '0');
        PERFORM antiban.apply_messages('200', pg_temp.inbound(wa, 'wamid.' || wa, b), now(), 0);
        IF note THEN
            SELECT id INTO contact FROM antiban.contacts WHERE wa_id = wa;
            PERFORM antiban.note_lead_event(2000000000 + contact, 'inbound', now(), b, portfolio => 1);
        END IF;
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - started) * 1e6 / n;
END
$$;
CREATE FUNCTION pg_temp.batched(prefix text) RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz := clock_timestamp();
    n bigint := 0;
    chunk record;
BEGIN
    FOR chunk IN
        SELECT array_agg(3000000000 + i.contact_id ORDER BY i.id) AS conversations,
               array_agg('inbound'::text ORDER BY i.id) AS kinds, array_agg(i.occurred_at ORDER BY i.id) AS ats,
               array_agg(i.body ORDER BY i.id) AS bodies, array_agg(1::bigint ORDER BY i.id) AS portfolios
        FROM antiban.interactions i JOIN antiban.contacts c ON c.id = i.contact_id
        WHERE c.wa_id LIKE prefix || '%'
        GROUP BY i.id / 100
    LOOP
        PERFORM count(*) FROM antiban.note_lead_events(chunk.conversations, chunk.kinds, chunk.ats, chunk.bodies,
                                                        NULL, chunk.portfolios);
        n := n + cardinality(chunk.conversations);
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - started) * 1e6 / n;
END
$$;
SELECT round(pg_temp.run(:n, '55119', false)::numeric) || '|' || round(pg_temp.run(:n, '55219', true)::numeric)
       || '|' || round(pg_temp.batched('55119')::numeric);
