-- One line per seed: seed|model auc|log loss|brier|ece|keywords auc|log loss|brier|ece
-- over the held-out conversations of a model trained on the corpus with that
-- seed (psql variable :hot: the keyword list).
CREATE TEMP TABLE quality (seed int, model jsonb, keywords jsonb);
CREATE FUNCTION pg_temp.measure(s int, hot text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    m bigint := antiban.train_lead_model(source => 'corpus', seed => s, activate => 'never');
BEGIN
    INSERT INTO quality
    WITH ex AS (
        SELECT e.won, e.id = ANY (lm.held_out) AS held, r.probability,
               (SELECT count(*) FROM unnest(hot) w WHERE t.txt ~ ('\m' || w || '\M')) AS hits
        FROM antiban.lead_models lm
             JOIN antiban.lead_training_examples e ON e.source = 'corpus' AND e.portfolio_id IS NULL
             CROSS JOIN LATERAL (SELECT lower(translate(array_to_string(e.texts, ' '),
                                                        'áàâãéêíóôõúüçñÁÀÂÃÉÊÍÓÔÕÚÜÇÑ',
                                                        'aaaaeeiooouucnAAAAEEIOOOUUCN')) AS txt) t
             CROSS JOIN LATERAL antiban.lead_text_features(e.texts) f
             CROSS JOIN LATERAL antiban.lead_score(lm.id, f.features, f.feature_values, e.engagement,
                                                   e.observed_at) r
        WHERE lm.id = m
    ),
    -- the baseline's best calibration: the won rate of each number of hot
    -- words on the training share (Laplace-smoothed, 5 or more pooled)
    rates AS (
        SELECT least(hits, 5) AS h, (count(*) FILTER (WHERE won) + 1.0) / (count(*) + 2.0) AS p
        FROM ex WHERE NOT held GROUP BY 1
    ),
    prior AS (SELECT (count(*) FILTER (WHERE won) + 1.0) / (count(*) + 2.0) AS p FROM ex WHERE NOT held)
    SELECT s, antiban.lead_metrics(array_agg(ex.probability::float8), array_agg(ex.won)),
           antiban.lead_metrics(array_agg(coalesce(r.p, prior.p)::float8), array_agg(ex.won))
    FROM ex LEFT JOIN rates r ON r.h = least(ex.hits, 5) CROSS JOIN prior
    WHERE ex.held;
END
$$;
SELECT pg_temp.measure(s, :'hot') FROM generate_series(1, 5) s;
SELECT seed, model ->> 'auc', model ->> 'log_loss', model ->> 'brier', model ->> 'ece',
       keywords ->> 'auc', keywords ->> 'log_loss', keywords ->> 'brier', keywords ->> 'ece'
FROM quality ORDER BY seed;
