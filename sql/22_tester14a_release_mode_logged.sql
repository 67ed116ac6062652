-- README, Protection: "An operator forces a mode with a reason ... until
-- antiban.release_mode('3000000001'). Both are logged in
-- antiban.health_events and raise an info alert." set_mode does both;
-- release_mode (src/sql/80_protection.sql) only updates the number: no
-- health event, no alert, so the next operator can not tell who handed a
-- paused number back to the controller, or when.
\i regress/fixture.sql
SELECT antiban.set_mode('1001', 'paused', 'template under review');
SELECT antiban.release_mode('1001');
SELECT count(*) = 2 AS forced_and_released_events FROM antiban.health_events WHERE number_id = 1;
SELECT count(*) = 2 AS forced_and_released_alerts FROM antiban.alerts WHERE severity = 'info' AND phone_number_id = '1001';
