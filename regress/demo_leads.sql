-- The demo, part four: every conversation became a lead, scored with
-- its reasons, and the hot one was assigned (src/sql/84_lead_flow.sql).
\pset footer off
\echo '== Leads: one per person who wrote, scored by the model with its reasons (antiban.leads, antiban.lead_scores)'
SELECT l.id AS lead, k.profile_name AS person, l.source, l.stage, l.score,
       array_to_string(ARRAY(SELECT jsonb_array_elements_text(s.reasons -> 'positive')), '; ') AS up,
       array_to_string(ARRAY(SELECT jsonb_array_elements_text(s.reasons -> 'negative')), '; ') AS down
FROM antiban.leads l JOIN antiban.contacts k ON k.person_id = l.person_id
LEFT JOIN antiban.lead_scores s ON s.conversation_id = l.id ORDER BY l.id;
\echo '== Assigned to an agent, with why, and the first-response SLA (antiban.lead_assignments, antiban.lead_sla)'
SELECT a.lead_id AS lead, g.name AS agent, a.policy, a.explanation, s.state AS sla, s.time_left
FROM antiban.lead_assignments a JOIN antiban.agents g ON g.id = a.agent_id JOIN antiban.lead_sla s ON s.lead_id = a.lead_id
ORDER BY a.id;
\echo '== The hot lead''s timeline (antiban.lead_timeline)'
SELECT to_char(t.at, 'HH24:MI:SS') AS at, t.kind, t.direction, left(t.summary, 110) AS summary
FROM antiban.leads l JOIN antiban.contacts k ON k.person_id = l.person_id,
     antiban.lead_timeline(l.id) t
WHERE k.wa_id = '5521900000001';
\echo '== May marketing go to them? (antiban.lead_gate: score >= 40, wrote in the last 30 days)'
SELECT k.profile_name AS person, g.allowed, g.reason, g.detail
FROM antiban.contacts k, antiban.lead_gate(k.person_id, 40, '30 days') g
WHERE k.person_id IN (SELECT person_id FROM antiban.leads) ORDER BY k.id;
