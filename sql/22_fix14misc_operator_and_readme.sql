-- What an operator does to a number's mode is logged and alerted, whatever
-- it is (README, Protection: "Both are logged in antiban.health_events and
-- raise an info alert"), and README examples that must run as written.
\i regress/fixture.sql
-- releasing a hard pause (a ban signal: hard_block, not forced) leaves a row too
SELECT antiban.pause_number(1, 'account_restricted', 'WABA restricted by Meta', true);
SELECT antiban.release_mode('1001', 'appeal accepted');
SELECT reason, mode_before, mode_after FROM antiban.health_events WHERE number_id = 1 ORDER BY id;
SELECT kind, severity, detail FROM antiban.alerts WHERE phone_number_id = '1001' ORDER BY id;
SELECT mode, mode_forced, hard_block FROM antiban.numbers WHERE id = 1;
-- forcing, then releasing, then warming up: each an info alert of its own kind
SELECT antiban.set_mode('1002', 'throttled', 'new campaign');
SELECT antiban.release_mode('1002');
SELECT antiban.start_warmup('1002', 'after a ban');
SELECT kind, severity, detail FROM antiban.alerts WHERE phone_number_id = '1002' ORDER BY id;
SELECT mode_before, mode_after, reason FROM antiban.health_events WHERE number_id = 2 ORDER BY id;
-- README, getting started: the access token example runs as written
INSERT INTO antiban.wabas (waba_id, portfolio_id) VALUES ('2000000001', 1);
SELECT antiban.set_secret('access_token', 'EAAGyour-system-user-token', '2000000001');  -- 8+ characters
-- template languages: separators are spaces too; other shapes kept as given
SELECT code, antiban.template_language(code)
FROM unnest(ARRAY['en US', 'en  us', ' pt ', 'es 419', 'EN-us', 'pt_br', 'en US x']) AS code;
-- a warm-up restarted on a warming number: logged (its day changes) and alerted
SELECT antiban.start_warmup('1002', 'restart after a week off', from_day => 3);
SELECT kind, detail FROM antiban.alerts WHERE phone_number_id = '1002' AND kind LIKE 'warmup%';
SELECT count(*) AS warmup_events FROM antiban.health_events WHERE number_id = 2 AND reason LIKE '%warm-up%';
