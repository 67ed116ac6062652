-- antiban_analyst: dashboards and BI see counts, states, costs and scores,
-- never phone numbers, names or message text.  It reads only the analyst_*
-- views below, not the tables: they run with their owner's rights (like
-- secrets_status), carry no personal column, and filter the rows to the
-- portfolios of the querying role themselves (current_user is the role that
-- queries, not the view's owner), so RLS's scoping holds for them too.
-- security_barrier: no function in a caller's WHERE runs before that filter.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'antiban_analyst') THEN
        CREATE ROLE antiban_analyst NOLOGIN;
    END IF;
END
$$;

CREATE VIEW antiban.analyst_outbox WITH (security_barrier) AS
SELECT o.id, o.portfolio_id, o.phone_number_id AS sender_id, o.message_type, o.category, o.priority, o.state,
       o.reason, o.metadata ->> 'campaign' AS campaign, o.attempts, o.error_code,
       o.created_at, o.not_before, o.sent_at, o.delivered_at, o.read_at, o.failed_at, o.updated_at
FROM antiban.outbox o
WHERE (SELECT antiban.portfolios_of(current_user)) IS NULL OR o.portfolio_id = ANY ((SELECT antiban.portfolios_of(current_user))::bigint[]);
COMMENT ON VIEW antiban.analyst_outbox IS
    'The outbox without recipient, payload or detail (antiban_analyst): states, reasons, timings. sender_id is Meta''s phone-number id of the sending number, not a phone number.';

CREATE VIEW antiban.analyst_contacts WITH (security_barrier) AS
SELECT c.id, c.portfolio_id, c.person_id, c.first_seen_at, c.last_inbound_at, c.marketing_opt_out, c.opt_out_at,
       c.consent_at
FROM antiban.contacts c
WHERE (SELECT antiban.portfolios_of(current_user)) IS NULL OR c.portfolio_id = ANY ((SELECT antiban.portfolios_of(current_user))::bigint[]);
COMMENT ON VIEW antiban.analyst_contacts IS
    'Contacts without wa_id, user ids or profile name (antiban_analyst): when they wrote and whether they opted out.';

CREATE VIEW antiban.analyst_interactions WITH (security_barrier) AS
SELECT i.id, i.contact_id, c.portfolio_id, i.direction, i.message_type, i.occurred_at
FROM antiban.interactions i JOIN antiban.contacts c ON c.id = i.contact_id
WHERE (SELECT antiban.portfolios_of(current_user)) IS NULL OR c.portfolio_id = ANY ((SELECT antiban.portfolios_of(current_user))::bigint[]);
COMMENT ON VIEW antiban.analyst_interactions IS
    'Messages in and out by type and time, without body or payload (antiban_analyst).';

CREATE VIEW antiban.analyst_leads WITH (security_barrier) AS
SELECT l.id, l.portfolio_id, l.person_id, l.stage, l.source, l.campaign, l.owner_agent_id, l.score, l.language,
       l.products, l.value, l.created_at, l.first_inbound_at, l.first_response_at, l.last_inbound_at, l.closed_at
FROM antiban.leads l
WHERE (SELECT antiban.portfolios_of(current_user)) IS NULL OR l.portfolio_id = ANY ((SELECT antiban.portfolios_of(current_user))::bigint[]);
COMMENT ON VIEW antiban.analyst_leads IS 'Leads: stage, source, score and timings, no phone or name (antiban_analyst).';

CREATE VIEW antiban.analyst_costs WITH (security_barrier) AS
SELECT mc.message_id, mc.portfolio_id, mc.phone_number_id AS sender_id, mc.campaign, mc.delivered_at, mc.local_date,
       mc.country, mc.market, mc.pricing_type, mc.pricing_category, mc.charged, mc.tier, mc.currency, mc.unit_price,
       mc.cost, mc.unpriced_reason
FROM antiban.message_costs mc
WHERE (SELECT antiban.portfolios_of(current_user)) IS NULL OR mc.portfolio_id = ANY ((SELECT antiban.portfolios_of(current_user))::bigint[]);
COMMENT ON VIEW antiban.analyst_costs IS 'What each message cost, without its recipient (antiban_analyst).';

CREATE VIEW antiban.analyst_decisions WITH (security_barrier) AS
SELECT d.decided_at, d.category, d.priority, d.outcome, d.reason, d.phone_number_id AS sender_id, d.not_before, d.consumed
FROM antiban.decisions d
WHERE (SELECT antiban.portfolios_of(current_user)) IS NULL OR d.phone_number_id = ANY ((SELECT antiban.phone_numbers_of(current_user))::text[]);
COMMENT ON VIEW antiban.analyst_decisions IS 'Every decision''s outcome and reason, without recipient or detail sentence (antiban_analyst).';

CREATE VIEW antiban.analyst_campaigns WITH (security_barrier) AS
SELECT c.id, c.name, c.portfolio_id, c.template_name, c.language, c.category, c.state, c.created_at, c.started_at,
       c.finished_at
FROM antiban.campaigns c
WHERE (SELECT antiban.portfolios_of(current_user)) IS NULL OR c.portfolio_id = ANY ((SELECT antiban.portfolios_of(current_user))::bigint[]);
COMMENT ON VIEW antiban.analyst_campaigns IS 'Campaigns without their audience query (antiban_analyst).';

GRANT USAGE ON SCHEMA antiban TO antiban_analyst;
GRANT SELECT ON antiban.analyst_outbox, antiban.analyst_contacts, antiban.analyst_interactions, antiban.analyst_leads,
    antiban.analyst_costs, antiban.analyst_decisions, antiban.analyst_campaigns TO antiban_analyst;
GRANT SELECT ON antiban.portfolios, antiban.wabas TO antiban_analyst;
GRANT EXECUTE ON FUNCTION antiban.portfolios_of(name), antiban.phone_numbers_of(name), antiban.now()
    TO antiban_analyst;
