-- Bad input gets a clear error with a proper SQLSTATE, and changes nothing.
\i regress/fixture.sql

SELECT * FROM antiban.try_consume('9999');
SELECT * FROM antiban.try_consume(NULL);
SELECT * FROM antiban.try_consume('1001', 0);
SELECT * FROM antiban.try_consume('1001', -1);
SELECT * FROM antiban.try_consume('1001', 'NaN');
SELECT * FROM antiban.try_consume('1001', 'Infinity');
SELECT * FROM antiban.try_consume('1001', NULL);
SELECT * FROM antiban.try_consume('1001', 3);
UPDATE antiban.numbers SET burst_override = 100 WHERE phone_number_id = '1003';
SELECT * FROM antiban.try_consume('1003', 46, '+5511987654321');
SELECT * FROM antiban.try_consume('1001', 1, '5511987654321');
SELECT * FROM antiban.try_consume('1001', 1, '+55 11 9876a');
SELECT * FROM antiban.try_consume('1001', 1, 'someone@example.com');

SELECT * FROM antiban.decide(NULL, 'utility');
SELECT * FROM antiban.decide('+5511987654321', NULL);
SELECT * FROM antiban.decide('+5511987654321', 'promo');
SELECT * FROM antiban.decide('+5511987654321', 'utility', 'urgent');
SELECT * FROM antiban.decide('+5511987654321', 'utility', from_number => '9999');
SELECT * FROM antiban.decide('+5511987654321', 'utility', portfolio => '999');
SELECT * FROM antiban.open_service_window('+5511987654321', '9999');
SELECT * FROM antiban.open_service_window(NULL, '1001');

SET antiban.pinned_now = 'not a time';

-- The SQLSTATE of each, for callers that branch on it.
CREATE FUNCTION pg_temp.sqlstate_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE;
END
$$;
SELECT statement, pg_temp.sqlstate_of(statement) FROM (VALUES
    ($$SELECT antiban.try_consume('9999')$$),
    ($$SELECT antiban.try_consume(NULL)$$),
    ($$SELECT antiban.try_consume('1001', 'NaN')$$),
    ($$SELECT antiban.try_consume('1001', 3)$$),
    ($$SELECT antiban.try_consume('1001', 1, '5511987654321')$$),
    ($$SELECT antiban.decide('+5511987654321', 'promo')$$),
    ($$SELECT antiban.decide('+5511987654321', 'utility', portfolio => '999')$$),
    ($$SET antiban.pinned_now = 'not a time'$$)) AS t(statement);

-- None of that consumed a token.
SELECT kind, phone_number_id, tokens, granted, denied FROM antiban.buckets ORDER BY 1, 2;
