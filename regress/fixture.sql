-- Shared by the pg_regress cases: a fresh antiban, a pinned clock, one
-- portfolio (TIER_250) with one WABA and four numbers of different health.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS antiban CASCADE;
CREATE EXTENSION antiban;
RESET client_min_messages;
SET antiban.pinned_now = '2030-01-01 00:00:00+00';
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
INSERT INTO antiban.portfolios (business_id, name, messaging_limit)
VALUES ('100', 'Investimentos BR', 'TIER_250');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name)
SELECT '200', id, 'Vendas' FROM antiban.portfolios WHERE business_id = '100';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, throughput_level, health)
SELECT v.pid, w.id, v.display, v.level::antiban.throughput_level, v.health
FROM antiban.wabas w,
     (VALUES ('1001', '+55 11 90000-0001', 'STANDARD', 90),
             ('1002', '+55 11 90000-0002', 'HIGH', 80),
             ('1003', '+55 11 90000-0003', 'STANDARD', 80),
             ('1004', '+55 11 90000-0004', 'COEXISTENCE', 20)) AS v(pid, display, level, health)
WHERE w.waba_id = '200';
-- Take every token a number has left (the clock is pinned: whole tokens).
CREATE FUNCTION pg_temp.drain(number text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    left_over double precision;
BEGIN
    SELECT remaining INTO left_over FROM antiban.try_consume(number, 1, consume => false);
    IF left_over >= 1 THEN
        PERFORM antiban.try_consume(number, floor(left_over));
    END IF;
    RETURN (SELECT NOT allowed FROM antiban.try_consume(number, 1, consume => false));
END
$$;
