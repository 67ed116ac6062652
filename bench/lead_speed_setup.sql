-- :leads conversations in antiban.lead_features built from the corpus: the
-- vector of corpus conversation i mod N, its engagement moved so that it is
-- seen between 0 and 14 days after the outcome by a score taken on
-- 2026-03-01; portfolio 1 scored by the default model, portfolio 2 by its own.
INSERT INTO antiban.portfolios (business_id, name) VALUES ('1', 'default model'), ('2', 'own model');
INSERT INTO antiban.lead_training_examples (portfolio_id, source, example_key, won, texts, engagement, observed_at)
SELECT 2, 'leads', example_key, won, texts, engagement, observed_at
FROM antiban.lead_training_examples WHERE source = 'corpus';
SELECT antiban.train_lead_model(portfolio => 2, seed => 3, activate => 'always');

CREATE TEMP TABLE corpus_vectors AS
SELECT row_number() OVER (ORDER BY e.id) - 1 AS k, f.features, f.feature_values, e.engagement, e.observed_at
FROM antiban.lead_training_examples e, antiban.lead_text_features(e.texts) f
WHERE e.source = 'corpus' AND e.portfolio_id IS NULL;

CREATE FUNCTION pg_temp.moved(e antiban.lead_engagement, by interval) RETURNS antiban.lead_engagement
LANGUAGE sql IMMUTABLE
RETURN ROW((e).as_of + by, (e).half_life, (e).replies, (e).quick_replies, (e).reads, (e).taps, (e).failures,
           (e).first_at + by, (e).last_inbound_at + by, (e).last_outbound_at + by, (e).opted_out,
           (e).blocked)::antiban.lead_engagement;

INSERT INTO antiban.lead_features (conversation_id, portfolio_id, features, feature_values, engagement, messages)
SELECT i, 1 + i % 2, c.features, c.feature_values,
       pg_temp.moved(c.engagement, (timestamptz '2026-03-01' - c.observed_at)
                                   - make_interval(secs => (i::bigint * 7919) % 1209600)),
       1
FROM generate_series(1, :leads) i
     JOIN corpus_vectors c ON c.k = i % (SELECT count(*) FROM corpus_vectors);
