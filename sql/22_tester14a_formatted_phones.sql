-- The README: recipients are E.164 phones "with the + and country code
-- (spaces, -, (, ) allowed)", and every rule reads the person, not the
-- string. decide(), the send functions, set_marketing_opt_out and
-- record_opt_in accept "+55 (41) 99999-1111"; the identity functions must
-- read it as the same person too, or say it names nobody with an error.
\i regress/fixture.sql
-- the canonical key of a formatted phone is the plain one's
SELECT antiban.recipient_key('+55 (41) 99999-1111') AS formatted_key,
       antiban.recipient_key('+55 41 9999-1111') AS old_form_key,
       antiban.same_recipient('+5541999991111', '+55 (41) 99999-1111') AS same;
-- an opt-in recorded for the formatted phone (accepted, as documented)
SELECT antiban.record_opt_in('+55 (41) 99999-1111', '1001', 'form', 'form v3') IS NOT NULL AS opted_in;
-- the operator says the phone (as written) and a BSUID are one person
SELECT antiban.link_identifiers(1, ARRAY['+55 (41) 99999-1111', 'BR.abc'], 'operator') =
       (SELECT person_id FROM antiban.person_ids WHERE key = '+5541999991111') AS linked_to_the_opted_in_person;
-- so a stop through the BSUID stops marketing to the phone
SELECT antiban.set_marketing_opt_out('BR.abc', '1001', true);
SELECT outcome, reason FROM antiban.decide('+5541999991111', 'marketing', consume => false);
-- the lead functions take "phone in any form"
SELECT antiban.upsert_lead('+55 (11) 98765-0007', '1001', 'app') =
       antiban.upsert_lead('+5511987650007', '1001', 'app') AS one_lead;
SELECT allowed, reason FROM antiban.lead_gate('+55 (11) 98765-0007', 1, 0, NULL);
-- export finds the person the formatted phone names
SELECT antiban.export_person('+55 (41) 99999-1111', '1001') IS NOT NULL AS exported;
-- an identifier link_identifiers cannot read is refused (saying which and why), never dropped
\set SHOW_CONTEXT never
SELECT antiban.link_identifiers(1, ARRAY['+55 (41) 9999x-1111', 'BR.xyz'], 'operator');
SELECT count(*) AS nothing_linked FROM antiban.person_ids WHERE key = 'BR.xyz';
-- and so is a lead or a gate for one
SELECT antiban.upsert_lead('55 41 99999-1111', '1001', 'app');
SELECT allowed FROM antiban.lead_gate('+55 (41) 99999-111x', 1, 0, NULL);
