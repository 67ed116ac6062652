-- An opt-in dated in the future is refused (README, Consent): the error's
-- DETAIL must give the date it was stated at and the "now" it was compared
-- with. consent_check_stated_at (src/pg/consent.c) formats both with
-- timestamptz_to_str, whose static buffer the second call overwrites: the
-- DETAIL printed the stated date twice ("dated D, after now (D)").
\i regress/fixture.sql
SELECT antiban.record_opt_in('+5511999990001', '1001', 'form', 'form v1', '2030-01-02 00:00:00+00');
