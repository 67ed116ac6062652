
-- ---- antiban upgrade, last part: the old rows into the new tables ----
--
-- Every table of the old version whose name the new version still has gets
-- its rows back, column by column where the names agree (cast through text
-- where a type was recreated, as the enums were); a row the install script
-- seeded with the same key (a setting, a rate card) is overwritten by the
-- old one, which is what the operator had set.  Columns the new version
-- added take their defaults, or the values the fills below derive from the
-- old row.  Triggers stay quiet meanwhile (session_replication_role): these
-- rows already went through them once.  Then what moved to another shape
-- (recipient_state became recipient_facts and recipient_reach) and what the
-- new version knows that the old one did not (each contact is a person).

SET LOCAL session_replication_role = replica;

DO $upgrade$
DECLARE
    t record;
    new_rel regclass;
    cols text;
    vals text;
    pkey text;
    sets text;
    fills CONSTANT jsonb := jsonb_build_object(
        'contacts', jsonb_build_object('portfolio_id',
            '(SELECT w.portfolio_id FROM antiban_previous.numbers n JOIN antiban_previous.wabas w ON w.id = n.waba_id'
            ' WHERE n.phone_number_id = o.last_phone_number_id)'));
BEGIN
    FOR t IN SELECT c.oid AS old_rel, c.relname FROM pg_class c
             WHERE c.relnamespace = 'antiban_previous'::regnamespace AND c.relkind IN ('r', 'p')
             ORDER BY c.relname LOOP
        new_rel := to_regclass(format('antiban.%I', t.relname));
        CONTINUE WHEN new_rel IS NULL OR (SELECT relkind FROM pg_class WHERE oid = new_rel) NOT IN ('r', 'p');
        SELECT string_agg(quote_ident(n.attname), ', ' ORDER BY n.attnum),
               string_agg(CASE WHEN o.attname IS NULL THEN fills -> t.relname ->> n.attname
                               WHEN o.atttypid = n.atttypid THEN format('o.%I', n.attname)
                               ELSE format('o.%I::text::%s', n.attname, format_type(n.atttypid, n.atttypmod)) END,
                          ', ' ORDER BY n.attnum)
        INTO cols, vals
        FROM pg_attribute n
        LEFT JOIN pg_attribute o ON o.attrelid = t.old_rel AND o.attname = n.attname AND o.attnum > 0 AND NOT o.attisdropped
        WHERE n.attrelid = new_rel AND n.attnum > 0 AND NOT n.attisdropped AND n.attgenerated = ''
          AND (o.attname IS NOT NULL OR fills -> t.relname ? n.attname);
        CONTINUE WHEN cols IS NULL;
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO pkey
        FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = new_rel AND i.indisprimary;
        SELECT string_agg(format('%1$I = excluded.%1$I', n.attname), ', ')
        INTO sets
        FROM pg_attribute n
        LEFT JOIN pg_attribute o ON o.attrelid = t.old_rel AND o.attname = n.attname AND o.attnum > 0 AND NOT o.attisdropped
        WHERE n.attrelid = new_rel AND n.attnum > 0 AND NOT n.attisdropped AND n.attgenerated = ''
          AND (o.attname IS NOT NULL OR fills -> t.relname ? n.attname)
          AND n.attidentity = ''
          AND NOT n.attname = ANY (string_to_array(replace(coalesce(pkey, ''), '"', ''), ', '));
        EXECUTE format('INSERT INTO %s AS n (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM antiban_previous.%I o %s',
                       new_rel, cols, vals, t.relname,
                       CASE WHEN pkey IS NULL THEN ''
                            WHEN sets IS NULL THEN format('ON CONFLICT (%s) DO NOTHING', pkey)
                            ELSE format('ON CONFLICT (%s) DO UPDATE SET %s', pkey, sets) END);
    END LOOP;

    -- 0.1.0's webhook_events was one table: each row is a post (as it
    -- arrived) and an outcome (what became of it) now, and the name a view
    -- of both (70_webhooks.sql); 0.1.0 kept whole bodies, so their size is
    -- their length, and knew no apply time
    IF to_regclass('antiban_previous.webhook_events') IS NOT NULL THEN
        INSERT INTO antiban.webhook_posts (id, received_at, body_raw, body_size, body_sha256, body, signature_valid)
        OVERRIDING SYSTEM VALUE
        SELECT o.id, o.received_at, o.body_raw, octet_length(o.body_raw), o.body_sha256, o.body, o.signature_valid
        FROM antiban_previous.webhook_events o;
        INSERT INTO antiban.webhook_outcomes (id, received_at, status, updates, problems)
        SELECT o.id, o.received_at, o.status::text::antiban.webhook_status, o.updates, o.problems
        FROM antiban_previous.webhook_events o;
    END IF;

    -- identity columns go on after the highest id copied
    FOR t IN SELECT a.attrelid::regclass AS rel, a.attname FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid
             WHERE c.relnamespace = 'antiban'::regnamespace AND a.attidentity <> '' LOOP
        EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), max(%I)) FROM %s HAVING max(%I) IS NOT NULL',
                       t.rel, t.attname, t.attname, t.rel, t.attname);
    END LOOP;

    -- 0.1.0's recipient_state: consent and windows, and what counted against the limit
    IF to_regclass('antiban_previous.recipient_state') IS NOT NULL THEN
        INSERT INTO antiban.recipient_facts (portfolio_id, recipient, marketing_opt_out, window_until,
                                             window_number_id, window_opened_at, updated_at)
        SELECT portfolio_id, recipient, marketing_opt_out, window_until, window_number_id,
               CASE WHEN window_until IS NOT NULL THEN window_until - interval '24 hours' END, updated_at
        FROM antiban_previous.recipient_state
        WHERE marketing_opt_out OR window_until IS NOT NULL
        ON CONFLICT (portfolio_id, recipient) DO NOTHING;
        INSERT INTO antiban.recipient_reach (portfolio_id, recipient, last_number_id, last_sent_at,
                                             last_reached_at, updated_at)
        SELECT portfolio_id, recipient, last_number_id, last_sent_at, last_reached_at, updated_at
        FROM antiban_previous.recipient_state
        WHERE last_sent_at IS NOT NULL OR last_reached_at IS NOT NULL
        ON CONFLICT (portfolio_id, recipient) DO NOTHING;
    END IF;
END
$upgrade$;

SET LOCAL session_replication_role = origin;

-- Each contact of a known portfolio is a person, with its identifiers; the
-- outbox rows to them name that person.
DO $upgrade$
DECLARE
    k record;
    person bigint;
BEGIN
    FOR k IN SELECT c.id, c.portfolio_id, c.wa_id, c.user_id FROM antiban.contacts c
             WHERE c.person_id IS NULL AND c.portfolio_id IS NOT NULL ORDER BY c.id LOOP
        person := antiban.link_identifiers(k.portfolio_id,
                                           antiban.readable_identifiers(ARRAY['+' || k.wa_id, k.user_id]), 'operator', NULL,
                                           'upgrade from antiban 0.1.0');
        UPDATE antiban.contacts c SET person_id = person
        WHERE c.id = k.id AND NOT EXISTS (SELECT 1 FROM antiban.contacts x WHERE x.person_id = person);
    END LOOP;
    UPDATE antiban.outbox o SET person_id = antiban.person_id(o.portfolio_id, o.recipient)
    WHERE o.person_id IS NULL AND o.portfolio_id IS NOT NULL AND o.recipient IS NOT NULL;
END
$upgrade$;

-- What the new version keeps beside the rows: the digests that keep each
-- webhook body stored once (its posts are partitioned now), and the
-- sends per minute the health score reads instead of the outbox.
INSERT INTO antiban.webhook_digests (body_sha256, signature_valid, received_at)
SELECT body_sha256, signature_valid, min(received_at) FROM antiban.webhook_posts GROUP BY 1, 2
ON CONFLICT DO NOTHING;
SELECT antiban.rebuild_send_minutes(antiban.now() - antiban.setting_interval('retention.send_minutes'));
-- Every portfolio has its lead routing row (portfolios_add_lead_routing,
-- quiet while the rows came back): the README's UPDATE must find one.
INSERT INTO antiban.lead_routing (portfolio_id) SELECT id FROM antiban.portfolios ON CONFLICT DO NOTHING;

DROP SCHEMA antiban_previous CASCADE;
