-- Lead qualification: features read from a lead's conversation (text search
-- in the lead's language, fit signals, decaying engagement), a logistic
-- regression trained in the database with LIBLINEAR, scores with reasons.
-- The default model is trained on the shipped corpus at CREATE EXTENSION
-- (67_lead_corpus.sql, generated from regress/lead_corpus/).

-- Text search.  Accents go first (contrib's unaccent dictionary, bound here
-- from its library so no other extension has to be created), then the
-- Snowball stemmer of the message's language with its stop words written
-- without accents; negations ("não", "no", "not") are kept: "não tenho
-- interesse" is a signal.  Numbers, URLs and e-mails are not words here:
-- the fit signals read amounts from the raw text.
CREATE FUNCTION antiban.lead_unaccent_init(internal) RETURNS internal
AS '$libdir/unaccent', 'unaccent_init' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION antiban.lead_unaccent_lexize(internal, internal, internal, internal) RETURNS internal
AS '$libdir/unaccent', 'unaccent_lexize' LANGUAGE C PARALLEL SAFE;
CREATE TEXT SEARCH TEMPLATE antiban.lead_unaccent (
    INIT = antiban.lead_unaccent_init, LEXIZE = antiban.lead_unaccent_lexize);
CREATE TEXT SEARCH DICTIONARY antiban.lead_unaccent (TEMPLATE = antiban.lead_unaccent, RULES = 'unaccent');
COMMENT ON TEXT SEARCH DICTIONARY antiban.lead_unaccent IS
    'contrib''s unaccent rules, the first step of the lead configurations.';

CREATE TEXT SEARCH DICTIONARY antiban.lead_portuguese_stem (
    TEMPLATE = pg_catalog.snowball, Language = portuguese, StopWords = antiban_portuguese);
CREATE TEXT SEARCH DICTIONARY antiban.lead_spanish_stem (
    TEMPLATE = pg_catalog.snowball, Language = spanish, StopWords = antiban_spanish);
CREATE TEXT SEARCH DICTIONARY antiban.lead_english_stem (
    TEMPLATE = pg_catalog.snowball, Language = english, StopWords = antiban_english);

CREATE TEXT SEARCH CONFIGURATION antiban.lead_portuguese (PARSER = pg_catalog."default");
CREATE TEXT SEARCH CONFIGURATION antiban.lead_spanish (PARSER = pg_catalog."default");
CREATE TEXT SEARCH CONFIGURATION antiban.lead_english (PARSER = pg_catalog."default");
ALTER TEXT SEARCH CONFIGURATION antiban.lead_portuguese
    ADD MAPPING FOR asciiword, word, numword, hword_part, hword_asciipart, hword_numpart
    WITH antiban.lead_unaccent, antiban.lead_portuguese_stem;
ALTER TEXT SEARCH CONFIGURATION antiban.lead_spanish
    ADD MAPPING FOR asciiword, word, numword, hword_part, hword_asciipart, hword_numpart
    WITH antiban.lead_unaccent, antiban.lead_spanish_stem;
ALTER TEXT SEARCH CONFIGURATION antiban.lead_english
    ADD MAPPING FOR asciiword, word, numword, hword_part, hword_asciipart, hword_numpart
    WITH antiban.lead_unaccent, antiban.lead_english_stem;
COMMENT ON TEXT SEARCH CONFIGURATION antiban.lead_portuguese IS
    'A lead''s Portuguese message as the lead model reads it: unaccented Snowball stems, negations kept.';
COMMENT ON TEXT SEARCH CONFIGURATION antiban.lead_spanish IS
    'A lead''s Spanish message as the lead model reads it: unaccented Snowball stems, negations kept.';
COMMENT ON TEXT SEARCH CONFIGURATION antiban.lead_english IS
    'A lead''s English message as the lead model reads it: Snowball stems, negations kept.';

-- Engagement: decaying counts as of as_of (see src/core/lead_engagement.h).
CREATE TYPE antiban.lead_engagement AS (
    as_of            timestamptz,
    half_life        interval,
    replies          double precision,
    quick_replies    double precision,
    reads            double precision,
    taps             double precision,
    failures         double precision,
    first_at         timestamptz,
    last_inbound_at  timestamptz,
    last_outbound_at timestamptz,
    opted_out        boolean,
    blocked          boolean
);
COMMENT ON TYPE antiban.lead_engagement IS
    'A lead''s engagement: replies, quick replies (within 1 h of our message), reads, button taps and 131049/131026 failures, each decaying with half_life and valid as of as_of; when they last wrote and we last wrote; opt-out and block. Grown one event at a time by antiban.lead_engagement_note or antiban.lead_engagement_agg.';

CREATE TYPE antiban.lead_score AS (
    score       smallint,
    probability real,
    model_id    bigint,
    reasons     jsonb
);
COMMENT ON TYPE antiban.lead_score IS
    'A lead''s score: 0-100 (the calibrated probability of winning it, in percent), the model that gave it, and reasons: {"positive": ["+18 perguntou sobre CDB", ...], "negative": ["−12 sem resposta há 3 a 7 dias", ...]}, each the points the score would lose or gain without that feature.';

-- What models learn from: one row per won or lost lead (or corpus conversation).
CREATE TABLE antiban.lead_training_examples (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    portfolio_id bigint REFERENCES antiban.portfolios ON DELETE CASCADE,
    source       text NOT NULL,
    example_key  text NOT NULL,
    won          boolean NOT NULL,
    texts        text[] NOT NULL DEFAULT '{}',
    engagement   antiban.lead_engagement,
    observed_at  timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT lead_training_examples_key UNIQUE NULLS NOT DISTINCT (portfolio_id, source, example_key)
);
COMMENT ON TABLE antiban.lead_training_examples IS
    'Won and lost leads a model learns from: the lead''s inbound texts and engagement as they were when the outcome was known (observed_at). portfolio_id NULL: the shipped corpus (source ''corpus''), which trains the default model. Texts are kept, not features, so a new feature version can retrain on the same leads.';
COMMENT ON COLUMN antiban.lead_training_examples.source IS 'Where the example comes from: ''corpus'', ''leads'', an import name; train_lead_model(source => ...) can train on one.';

-- Trained models, one row each, never changed (a new model is a new row).
CREATE TABLE antiban.lead_models (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    portfolio_id      bigint REFERENCES antiban.portfolios ON DELETE CASCADE,
    trained_at        timestamptz NOT NULL,
    feature_version   integer NOT NULL,
    examples          integer NOT NULL,
    won               integer NOT NULL,
    train_examples    integer NOT NULL,
    held_out_examples integer NOT NULL,
    params            jsonb NOT NULL,
    metrics           jsonb NOT NULL,
    intercept         double precision NOT NULL,
    platt_a           double precision NOT NULL,
    platt_b           double precision NOT NULL,
    features          int4[] NOT NULL,
    weights           float4[] NOT NULL,
    terms             text[] NOT NULL,
    held_out          bigint[] NOT NULL,
    active            boolean NOT NULL DEFAULT false,
    activated_at      timestamptz,
    note              text,
    CONSTRAINT lead_models_weights CHECK (cardinality(features) = cardinality(weights)
                                          AND cardinality(features) = cardinality(terms))
);
CREATE UNIQUE INDEX lead_models_one_active ON antiban.lead_models ((coalesce(portfolio_id, 0))) WHERE active;
COMMENT ON TABLE antiban.lead_models IS
    'Lead qualification models, versioned: when and on how many examples each was trained, its parameters (LIBLINEAR solver, cost C, seed) and held-out metrics (AUC, log loss, Brier, calibration error and bins, and the model in force measured on the same leads), its non-zero weights with the words of hashed features, Platt''s calibration (p = 1/(1+exp(-(platt_a z + platt_b)))). At most one active model per portfolio; portfolio_id NULL is the default model.';
COMMENT ON COLUMN antiban.lead_models.terms IS 'For each hashed text feature, the words it stood for most often in training (NULL for named features).';
COMMENT ON COLUMN antiban.lead_models.held_out IS 'Ids of the antiban.lead_training_examples the metrics were measured on (never trained on).';
COMMENT ON COLUMN antiban.lead_models.note IS 'Why the model was or was not activated.';

CREATE FUNCTION antiban.lead_models_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.portfolio_id, NEW.feature_version, NEW.intercept, NEW.platt_a, NEW.platt_b, NEW.features,
        NEW.weights, NEW.terms) IS DISTINCT FROM
       (OLD.portfolio_id, OLD.feature_version, OLD.intercept, OLD.platt_a, OLD.platt_b, OLD.features,
        OLD.weights, OLD.terms) THEN
        RAISE EXCEPTION 'lead model % cannot be changed', OLD.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Scores name the model that gave them, and backends keep models in memory by id.',
                  HINT = 'Train a new model with antiban.train_lead_model(); switch with antiban.activate_lead_model(id).';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER lead_models_immutable BEFORE UPDATE ON antiban.lead_models
    FOR EACH ROW EXECUTE FUNCTION antiban.lead_models_immutable();

-- A conversation's features, kept up to date as messages arrive.  The leads
-- work keys it by lead (one lead per person and portfolio).
CREATE TABLE antiban.lead_features (
    conversation_id bigint PRIMARY KEY,
    portfolio_id    bigint REFERENCES antiban.portfolios ON DELETE CASCADE,
    features        int4[] NOT NULL DEFAULT '{}',
    feature_values  float4[] NOT NULL DEFAULT '{}',
    engagement      antiban.lead_engagement,
    messages        integer NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lead_features_portfolio ON antiban.lead_features (portfolio_id);
COMMENT ON TABLE antiban.lead_features IS
    'Each conversation''s stored features: fit signals and hashed lexemes of its inbound texts as counts (sorted by feature), and its engagement. Grown by antiban.note_lead_event, one message or event at a time; scores are taken from it by antiban.rescore_leads and antiban.lead_score.';

-- Scores, narrow so that rescoring a million leads rewrites little.
CREATE TABLE antiban.lead_scores (
    conversation_id bigint PRIMARY KEY REFERENCES antiban.lead_features ON DELETE CASCADE,
    model_id        bigint NOT NULL,
    score           smallint NOT NULL,
    probability     real NOT NULL,
    reasons         jsonb NOT NULL,
    scored_at       timestamptz NOT NULL
) WITH (fillfactor = 50);
COMMENT ON TABLE antiban.lead_scores IS
    'The latest score of each conversation: 0-100, the model, the reasons in words (antiban.lead_reason_language) and when it was taken. Written as messages arrive (antiban.note_lead_event) and in bulk (antiban.rescore_leads).';

-- C functions
CREATE FUNCTION antiban.lead_language(message text) RETURNS text
AS 'MODULE_PATHNAME', 'antiban_lead_language' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION antiban.lead_language(text) IS
    'The language a lead message is read in: pt, es or en, by counting function words that only one of them has (none: pt).';

CREATE FUNCTION antiban.lead_lexemes(message text) RETURNS text[]
AS 'MODULE_PATHNAME', 'antiban_lead_lexemes' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION antiban.lead_lexemes(text) IS
    'The lexemes of a lead message in the order they stood: to_tsvector with antiban.lead_portuguese, lead_spanish or lead_english, as antiban.lead_language chooses.';

CREATE FUNCTION antiban.lead_text_features(texts text[], OUT features int4[], OUT feature_values float4[])
AS 'MODULE_PATHNAME', 'antiban_lead_text_features' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION antiban.lead_text_features(text[]) IS
    'A lead''s inbound messages as a stored feature vector: fit signals (products, amounts, horizons, intent, objections: features 1-99) and hashed lexemes and lexeme pairs (1024 and up), as counts, sorted by feature.';

CREATE FUNCTION antiban.lead_vector_add(features int4[], feature_values float4[], more int4[], more_values float4[],
                                        OUT features int4[], OUT feature_values float4[])
AS 'MODULE_PATHNAME', 'antiban_lead_vector_add' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.lead_vector_add(int4[], float4[], int4[], float4[]) IS
    'Two stored feature vectors added: a conversation''s and a new message''s.';

CREATE FUNCTION antiban.lead_engagement_note(engagement antiban.lead_engagement, kind text, at timestamptz,
                                             code integer DEFAULT NULL) RETURNS antiban.lead_engagement
AS 'MODULE_PATHNAME', 'antiban_lead_engagement_note' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.lead_engagement_note(antiban.lead_engagement, text, timestamptz, integer) IS
    'A lead''s engagement after one more event. kind: inbound, tap, outbound, read, failure (code: 131049 and 131026 count, others are ours), opt_out, opt_in, block. NULL engagement starts one with antiban.lead_half_life. Events may arrive out of order.';

CREATE AGGREGATE antiban.lead_engagement_agg(kind text, at timestamptz, code integer) (
    SFUNC = antiban.lead_engagement_note, STYPE = antiban.lead_engagement);
COMMENT ON AGGREGATE antiban.lead_engagement_agg(text, timestamptz, integer) IS
    'A lead''s engagement from its events: antiban.lead_engagement_agg(kind, at, code ORDER BY at).';

CREATE FUNCTION antiban.lead_engagement_features(engagement antiban.lead_engagement, at timestamptz) RETURNS jsonb
AS 'MODULE_PATHNAME', 'antiban_lead_engagement_features' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION antiban.lead_engagement_features(antiban.lead_engagement, timestamptz) IS
    'The engagement features a model reads at a time, by name: replies, quick_replies, reads, taps (log of 1 + the decayed count), never_replied, silent_1d/3d/7d/14d (we wrote last, no answer since), failures, opted_out, blocked.';

CREATE FUNCTION antiban.lead_score(model bigint, features int4[], feature_values float4[],
                                   engagement antiban.lead_engagement, at timestamptz DEFAULT antiban.now())
RETURNS antiban.lead_score
AS 'MODULE_PATHNAME', 'antiban_lead_score' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION antiban.lead_score(bigint, int4[], float4[], antiban.lead_engagement, timestamptz) IS
    'A lead''s score with a model, from its stored features and engagement read at a time: 0-100 and the reasons (antiban.lead_reasons each way, in antiban.lead_reason_language). Backends keep a few models in memory: scoring a million leads in one statement reads each model once. Another portfolio''s model (one the caller may not use) is answered as a missing one.';

CREATE FUNCTION antiban.lead_vector(features int4[], feature_values float4[], engagement antiban.lead_engagement,
                                    at timestamptz, model bigint DEFAULT NULL)
RETURNS TABLE (feature integer, name text, value real, weight real)
AS 'MODULE_PATHNAME', 'antiban_lead_vector' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION antiban.lead_vector(int4[], float4[], antiban.lead_engagement, timestamptz, bigint) IS
    'What a model reads of one lead at a time, feature by feature: its name (for a hashed one, the words it stood for in the model''s training), its value (fit signals 0/1, text cosine-normalised, engagement decayed) and, with a model, its weight.';

CREATE FUNCTION antiban.lead_feature_catalog() RETURNS TABLE (feature integer, name text, pt text, en text)
AS 'MODULE_PATHNAME', 'antiban_lead_feature_catalog' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.lead_feature_catalog() IS
    'The named features of the lead model (fit signals 1-99, engagement 100-199) and the words of their reasons in Portuguese and English.';

CREATE FUNCTION antiban.train_lead_model(portfolio bigint DEFAULT NULL, source text DEFAULT NULL,
                                         held_out real DEFAULT 0.2, seed integer DEFAULT 1,
                                         c double precision DEFAULT NULL, activate text DEFAULT 'auto')
RETURNS bigint
AS 'MODULE_PATHNAME', 'antiban_train_lead_model' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.train_lead_model(bigint, text, real, integer, double precision, text) IS
    'Trains a lead model with LIBLINEAR (L2-regularised logistic regression) on the portfolio''s antiban.lead_training_examples (NULL: the shipped corpus, the default model), optionally of one source; holds out a share of each outcome (chosen by seed), picks C by 5-fold cross-validated log loss unless given, calibrates with Platt scaling, stores a new antiban.lead_models row with held-out metrics and returns its id. activate: auto (if it is not worse than the model in force on the same held-out leads and, for a portfolio, it had antiban.lead_min_examples examples), always or never. An administrator mapped to portfolios trains only its own portfolios'' models: another portfolio does not exist for it, and the default model (NULL) is refused (insufficient_privilege).';

CREATE FUNCTION antiban.lead_corpus_examples(corpus text, base timestamptz DEFAULT '2026-01-05 12:00+00')
RETURNS TABLE (example_key text, language text, won boolean, texts text[],
               engagement antiban.lead_engagement, observed_at timestamptz)
AS 'MODULE_PATHNAME', 'antiban_lead_corpus_examples' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION antiban.lead_corpus_examples(text, timestamptz) IS
    'Labelled conversations written as in regress/lead_corpus (= id language won|lost, then > < r t f o i b lines and @) as training examples; times count from base.';

CREATE FUNCTION antiban.lead_metrics(probabilities double precision[], won boolean[]) RETURNS jsonb
AS 'MODULE_PATHNAME', 'antiban_lead_metrics' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION antiban.lead_metrics(double precision[], boolean[]) IS
    'AUC, log loss, Brier score and expected calibration error (10 bins) of probabilities against outcomes, as training measures models.';

-- SQL functions
-- (SECURITY DEFINER: callers score leads without reading the models table)
CREATE FUNCTION antiban.active_lead_model(portfolio bigint DEFAULT NULL) RETURNS bigint
LANGUAGE sql STABLE PARALLEL RESTRICTED SECURITY DEFINER
BEGIN ATOMIC
    SELECT m.id FROM antiban.lead_models m
    WHERE m.active AND ((m.portfolio_id = portfolio AND antiban.may_use_portfolio(portfolio)) OR m.portfolio_id IS NULL)
    ORDER BY m.portfolio_id NULLS LAST LIMIT 1;
END;
COMMENT ON FUNCTION antiban.active_lead_model(bigint) IS
    'The model that scores a portfolio''s leads: its own active model, else the default one (also for a portfolio the caller may not use: antiban.may_use_portfolio).';

CREATE FUNCTION antiban.lead_engagement_of(events jsonb) RETURNS antiban.lead_engagement
LANGUAGE plpgsql STABLE AS $$
DECLARE
    e antiban.lead_engagement;
    x jsonb;
BEGIN
    IF events IS NULL THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(events) <> 'array' THEN
        RAISE EXCEPTION 'lead events must be a JSON array, not %', jsonb_typeof(events)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example [{"kind": "outbound", "at": "2026-01-05 12:00+00"}, {"kind": "inbound", "at": "2026-01-05 12:03+00"}].';
    END IF;
    FOR x IN SELECT v FROM jsonb_array_elements(events) v
             ORDER BY CASE WHEN jsonb_typeof(v) = 'object' THEN (v ->> 'at')::timestamptz END LOOP
        IF jsonb_typeof(x) <> 'object' OR x ->> 'kind' IS NULL OR x ->> 'at' IS NULL THEN
            RAISE EXCEPTION 'a lead event needs a kind and a time'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('Event: %s.', left(x::text, 200)),
                      HINT = 'Each event is {"kind": "inbound|tap|outbound|read|failure|opt_out|opt_in|block", "at": timestamptz, "code": Cloud API code for failures}.';
        END IF;
        e := antiban.lead_engagement_note(e, x ->> 'kind', (x ->> 'at')::timestamptz, (x ->> 'code')::integer);
    END LOOP;
    RETURN e;
END
$$;
COMMENT ON FUNCTION antiban.lead_engagement_of(jsonb) IS
    'A lead''s engagement from a JSON array of events [{"kind", "at", "code"}], replayed in time order.';

CREATE FUNCTION antiban.score_conversation(texts text[], events jsonb DEFAULT '[]', portfolio bigint DEFAULT NULL,
                                           at timestamptz DEFAULT antiban.now(), model bigint DEFAULT NULL)
RETURNS antiban.lead_score
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT antiban.lead_score(coalesce(score_conversation.model, antiban.active_lead_model(score_conversation.portfolio)),
                              f.features, f.feature_values,
                              antiban.lead_engagement_of(CASE
                                  WHEN coalesce(score_conversation.events, '[]') <> '[]' THEN score_conversation.events
                                  ELSE (SELECT jsonb_agg(jsonb_build_object('kind', 'inbound', 'at', score_conversation.at))
                                        FROM unnest(score_conversation.texts) t WHERE t IS NOT NULL) END),
                              score_conversation.at)
    FROM antiban.lead_text_features(coalesce(score_conversation.texts, '{}')) f;
END;
COMMENT ON FUNCTION antiban.score_conversation(text[], jsonb, bigint, timestamptz, bigint) IS
    'Scores a conversation given as the lead''s inbound texts and its events (see antiban.lead_engagement_of; without events, each text counts as a reply just now), with the portfolio''s model in force (or the one named), at a time: 0-100 and the reasons. Nothing is stored.';

CREATE FUNCTION antiban.note_lead_events(conversations bigint[], kinds text[], ats timestamptz[],
                                         bodies text[] DEFAULT NULL, codes integer[] DEFAULT NULL,
                                         portfolios bigint[] DEFAULT NULL)
RETURNS SETOF antiban.lead_scores
AS 'MODULE_PATHNAME', 'antiban_note_lead_events' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.note_lead_events(bigint[], text[], timestamptz[], text[], integer[], bigint[]) IS
    'A batch of conversation events as they arrive, one array element per event: conversation, kind (inbound or tap with the body the lead wrote or the button title; outbound, read, failure with its code, opt_out, opt_in, block), time, and optionally body, code and portfolio (given on a conversation''s first event). Adds them to antiban.lead_features (rows created on first use, locked in conversation order, events replayed in time order), rescores each conversation once with its portfolio''s model in force and upserts antiban.lead_scores; returns the scores written (none for a conversation when no model exists yet).';

CREATE FUNCTION antiban.note_lead_event(conversation bigint, kind text, at timestamptz DEFAULT antiban.now(),
                                        body text DEFAULT NULL, code integer DEFAULT NULL,
                                        portfolio bigint DEFAULT NULL)
RETURNS antiban.lead_score
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    SELECT ROW(s.score, s.probability, s.model_id, s.reasons)::antiban.lead_score
    FROM antiban.note_lead_events(ARRAY[note_lead_event.conversation], ARRAY[note_lead_event.kind],
                                  ARRAY[note_lead_event.at], ARRAY[note_lead_event.body],
                                  ARRAY[note_lead_event.code], ARRAY[note_lead_event.portfolio]) s;
END;
COMMENT ON FUNCTION antiban.note_lead_event(bigint, text, timestamptz, text, integer, bigint) IS
    'One event of a lead''s conversation (see antiban.note_lead_events): stored, rescored, its score returned (NULL if no model exists yet).';

CREATE FUNCTION antiban.rescore_leads(portfolio bigint DEFAULT NULL, at timestamptz DEFAULT antiban.now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    fallback bigint := (SELECT m.id FROM antiban.lead_models m WHERE m.active AND m.portfolio_id IS NULL);
    scored bigint := 0;
    mine constant bigint[] := antiban.my_portfolios();
    own bigint;
BEGIN
    -- an administrator mapped to portfolios rescores its own only; another
    -- portfolio is answered as a missing one (none scored)
    IF mine IS NOT NULL THEN
        IF rescore_leads.portfolio IS NULL THEN
            FOREACH own IN ARRAY mine LOOP
                scored := scored + antiban.rescore_leads(own, rescore_leads.at);
            END LOOP;
            RETURN scored;
        ELSIF NOT rescore_leads.portfolio = ANY (mine) THEN
            RETURN 0;
        END IF;
    END IF;
    INSERT INTO antiban.lead_scores AS l (conversation_id, model_id, score, probability, reasons, scored_at)
    SELECT f.conversation_id, r.model_id, r.score, r.probability, r.reasons, rescore_leads.at
    FROM antiban.lead_features f
         LEFT JOIN antiban.lead_models own ON own.active AND own.portfolio_id = f.portfolio_id
         CROSS JOIN LATERAL antiban.lead_score(coalesce(own.id, fallback), f.features, f.feature_values,
                                               f.engagement, rescore_leads.at) r
    WHERE (rescore_leads.portfolio IS NULL OR f.portfolio_id = rescore_leads.portfolio)
      AND coalesce(own.id, fallback) IS NOT NULL
    ON CONFLICT (conversation_id) DO UPDATE
    SET model_id = excluded.model_id, score = excluded.score, probability = excluded.probability,
        reasons = excluded.reasons, scored_at = excluded.scored_at;
    GET DIAGNOSTICS scored = ROW_COUNT;
    -- leads follow their conversations' scores (84_lead_flow.sql)
    PERFORM antiban.apply_lead_scores(NULL, portfolio => rescore_leads.portfolio);
    RETURN scored;
END
$$;
COMMENT ON FUNCTION antiban.rescore_leads(bigint, timestamptz) IS
    'Scores every conversation in antiban.lead_features (or one portfolio''s; for an administrator mapped to portfolios, of those only) again at a time, with each portfolio''s model in force: engagement decays and models change even when no message arrives; each lead takes its conversation''s new score (antiban.apply_lead_scores: a qualifying one is assigned). Returns how many were scored.';

-- Another portfolio's model (for an administrator mapped to portfolios) is
-- answered as a missing one: ids are no oracle.
CREATE FUNCTION antiban.activate_lead_model(model bigint) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    m antiban.lead_models;
BEGIN
    LOCK TABLE antiban.lead_models IN SHARE ROW EXCLUSIVE MODE;
    SELECT * INTO m FROM antiban.lead_models WHERE id = model;
    IF NOT FOUND OR (m.portfolio_id IS NOT NULL AND NOT antiban.may_use_portfolio(m.portfolio_id)) THEN
        RAISE EXCEPTION 'lead model % does not exist', model
            USING ERRCODE = 'undefined_object',
                  HINT = 'The models: SELECT id, portfolio_id, trained_at, active FROM antiban.lead_models.';
    ELSIF m.portfolio_id IS NULL THEN
        PERFORM antiban.refuse_install_wide('put a default lead model in force');
    END IF;
    UPDATE antiban.lead_models SET active = false, note = format('replaced by model %s', model)
    WHERE portfolio_id IS NOT DISTINCT FROM m.portfolio_id AND active AND id <> model;
    UPDATE antiban.lead_models SET active = true, activated_at = antiban.now(), note = 'activated by hand'
    WHERE id = model AND NOT active;
END
$$;
COMMENT ON FUNCTION antiban.activate_lead_model(bigint) IS
    'Puts a model in force for its portfolio (or as the default), replacing the one that was: to roll back to an earlier version, or to force a tenant''s model in. An administrator mapped to portfolios activates only its portfolios'' models: another''s does not exist for it, and the default model is refused (insufficient_privilege).';

CREATE VIEW antiban.lead_model_versions AS
SELECT id, portfolio_id, trained_at, examples, won, held_out_examples,
       (metrics -> 'held_out' ->> 'auc')::numeric AS auc,
       (metrics -> 'held_out' ->> 'log_loss')::numeric AS log_loss,
       (metrics -> 'held_out' ->> 'ece')::numeric AS calibration_error,
       (params ->> 'c')::numeric AS c, cardinality(features) AS weights, active, note
FROM antiban.lead_models;
COMMENT ON VIEW antiban.lead_model_versions IS
    'Lead models at a glance: training data size, held-out AUC, log loss and calibration error, cost C, how many weights, which is in force and why.';

-- What the functions above without one do (every SQL function has a comment).
COMMENT ON FUNCTION antiban.lead_unaccent_init(internal) IS
    'Text search dictionary template (contrib unaccent, bound from its library): initialises the accent folding used by the lead model''s configurations.';
COMMENT ON FUNCTION antiban.lead_unaccent_lexize(internal,internal,internal,internal) IS
    'Text search dictionary template (contrib unaccent): folds accents so "ações" and "acoes" are one lexeme for the lead model.';
COMMENT ON FUNCTION antiban.lead_models_immutable() IS
    'Trigger: a trained lead model''s weights and metrics never change; only its active flag may (antiban.activate_lead_model).';
