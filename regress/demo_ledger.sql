-- The demo's verdict from the simulator's ledger (psql variable :ledger,
-- the JSON of GET /_sim/ledger): messages accepted, messages sent twice
-- (the same outbox row accepted again) and limit violations of any kind.
SELECT format('%s messages accepted, %s duplicates, %s violations',
              (l ->> 'accepted')::bigint, (l ->> 'duplicates')::bigint,
              (SELECT sum(value::bigint) FROM jsonb_each_text(l -> 'violations')))
FROM (SELECT :'ledger'::jsonb AS l) ledger;
