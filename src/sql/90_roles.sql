-- Roles. They are cluster-wide, so they may exist from an earlier install.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['antiban_admin', 'antiban_app', 'antiban_reader', 'antiban_receiver'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$;

REVOKE ALL ON ALL TABLES IN SCHEMA antiban FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA antiban FROM PUBLIC;
GRANT USAGE ON SCHEMA antiban TO antiban_admin, antiban_app, antiban_reader, antiban_receiver;

-- Readers (BI tools, dashboards): every table and view but the secrets.
GRANT SELECT ON antiban.portfolios, antiban.wabas, antiban.numbers, antiban.recipient_state,
    antiban.decisions, antiban.buckets, antiban.portfolio_usage, antiban.secrets_status
    TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.now(), antiban.tier_limit(antiban.messaging_tier),
    antiban.bucket_states(), antiban.portfolio_usage_raw(), antiban.journal_stats()
    TO antiban_reader;

-- Applications: decide and consume, and read what readers read.
GRANT antiban_reader TO antiban_app;
GRANT EXECUTE ON FUNCTION antiban.decide(text, text, text, timestamptz, text, text, boolean),
    antiban.try_consume(text, double precision, text, boolean),
    antiban.enqueue(text, text, text, jsonb, text, timestamptz, text, jsonb, text),
    antiban.template_object(text, text, jsonb),
    antiban.send_template(text, text, text, jsonb, text, text, timestamptz, text, jsonb, text),
    antiban.send_text(text, text, boolean, text, text, timestamptz, text, jsonb, text),
    antiban.send(text, jsonb, text, text, timestamptz, text, jsonb, text),
    antiban.mark_read(text, text, boolean),
    antiban.cancel(bigint)
    TO antiban_app;
GRANT SELECT ON antiban.outbox, antiban.queue_depth, antiban.outbox_states TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.transition_allowed(text, text) TO antiban_reader;

-- Administrators: configuration and secrets.
GRANT antiban_app TO antiban_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON antiban.portfolios, antiban.wabas, antiban.numbers,
    antiban.secrets TO antiban_admin;
GRANT EXECUTE ON FUNCTION antiban.set_secret(antiban.secret_kind, text, text),
    antiban.reload_config(), antiban.flush_journal(),
    antiban.open_service_window(text, text, timestamptz)
    TO antiban_admin;

-- The webhook receiver: ingest and the GET handshake, nothing else.
GRANT EXECUTE ON FUNCTION antiban.ingest_webhook(bytea, text), antiban.webhook_verify(text)
    TO antiban_receiver;
GRANT SELECT ON antiban.webhook_events, antiban.contacts, antiban.interactions, antiban.templates,
    antiban.quality_history, antiban.alerts TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.error_action(integer, integer), antiban.is_opt_out(text) TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.set_marketing_opt_out(text, text, boolean),
    antiban.acknowledge_alert(bigint) TO antiban_admin;

-- Protection: everyone who reads sees health and why; operators steer modes.
GRANT SELECT ON antiban.number_health, antiban.health_events, antiban.send_errors, antiban.health_state,
    antiban.mgmt_calls, antiban.poll_state TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.warmup_schedule(integer), antiban.quality_rank(antiban.quality_rating)
    TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.set_mode(text, antiban.number_mode, text), antiban.release_mode(text, text),
    antiban.start_warmup(text, text, integer), antiban.evaluate_health()
    TO antiban_admin;

-- Make every backend drop numbers cached from an earlier install.
SELECT antiban.reload_config();
