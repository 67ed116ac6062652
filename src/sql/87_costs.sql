-- Costs: Meta's rate cards, what each delivered message cost, and views of
-- the money per number, WABA, portfolio, category, market, day and campaign.
--
-- Where a cost comes from: a status webhook sets the outbox row's pricing
-- (src/sql/74_webhook_statuses.sql); the first update that leaves a row both
-- delivered (or read) and priced charges it, once, into antiban.message_costs
-- (triggers in src/pg/message_costs.c).  The price is the rate in force at
-- delivery in the WABA's currency and time zone, for the recipient's market
-- that day, at the volume tier the portfolio has reached that month.  A card
-- is never converted into another currency.

-- ---- the WABA's billing currency and time zone ----

ALTER TABLE antiban.wabas
    ADD COLUMN currency char(3) NOT NULL DEFAULT 'USD'
        CONSTRAINT wabas_currency_code CHECK (currency ~ '^[A-Z]{3}$'),
    ADD COLUMN timezone text NOT NULL DEFAULT 'America/Sao_Paulo';
COMMENT ON COLUMN antiban.wabas.currency IS
    'The currency Meta bills this WABA in (fixed for its life): its messages are priced with the rate card in that currency, never converted.';
COMMENT ON COLUMN antiban.wabas.timezone IS
    'The WABA''s time zone (IANA name): rate cards change, and volume tiers reset, at 00:00 there.';

CREATE FUNCTION antiban.check_waba_timezone() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name = NEW.timezone) THEN
        RAISE EXCEPTION 'unknown time zone "%" for WABA %', NEW.timezone, NEW.waba_id
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use the IANA name of the WABA''s time zone in WhatsApp Manager, such as America/Sao_Paulo (see pg_timezone_names).';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER check_waba_timezone BEFORE INSERT OR UPDATE OF timezone ON antiban.wabas
    FOR EACH ROW WHEN (NEW.timezone IS DISTINCT FROM 'America/Sao_Paulo')
    EXECUTE FUNCTION antiban.check_waba_timezone();

-- ---- rules from src/core ----

CREATE FUNCTION antiban.recipient_market(recipient text, on_date date DEFAULT 'infinity',
    OUT country text, OUT market text)
AS 'MODULE_PATHNAME', 'antiban_recipient_market' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.recipient_market(text, date) IS
    'The country (ISO 3166 alpha-2, by the longest calling code: +1 by area code, +7 6/7 Kazakhstan) and Meta pricing market of a number on a date (its WABA''s local date): a standalone market, a regional bucket, North America for the rest of +1, or Other. on_date infinity: the latest mapping antiban knows.';

CREATE FUNCTION antiban.pricing_markets(on_date date DEFAULT 'infinity')
RETURNS TABLE (country text, market text)
AS 'MODULE_PATHNAME', 'antiban_pricing_markets' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.pricing_markets(date) IS
    'Every country antiban places in a named market on a date; countries not listed are Other (or North America on +1).';

CREATE FUNCTION antiban.is_pricing_market(name text) RETURNS boolean
AS 'MODULE_PATHNAME', 'antiban_is_pricing_market' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION antiban.is_pricing_market(text) IS
    'Is this a market name (as Meta''s cards spell it) that antiban maps numbers to?';

CREATE FUNCTION antiban.pricing_rule(type text, category text,
    OUT charged boolean, OUT rate_column text, OUT fallback_column text, OUT tier_counter text)
AS 'MODULE_PATHNAME', 'antiban_pricing_rule' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.pricing_rule(text, text) IS
    'What a status webhook''s pricing {type, category} means: charged (only type regular), the rate card column that prices it (marketing_lite as marketing, both spellings of authentication-international), the column used when the card has none (service -> utility), and the monthly volume counter it moves (utility, authentication; none for marketing and service).';

CREATE FUNCTION antiban.tier_band(afters bigint[], message_position bigint) RETURNS integer
AS 'MODULE_PATHNAME', 'antiban_tier_band' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION antiban.tier_band(bigint[], bigint) IS
    'The 1-based volume band holding the month''s message number message_position, given each band''s count of messages before it (ascending: 0, 100000, ...); NULL if none.';

CREATE FUNCTION antiban.tier_spread(afters bigint[], already bigint, messages bigint) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'antiban_tier_spread' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION antiban.tier_spread(bigint[], bigint, bigint) IS
    'How many of messages sent after already charged ones this month fall in each volume band (marginal pricing: each band at its own rate).';

CREATE FUNCTION antiban.tier_label(after bigint, next_after bigint) RETURNS text
AS 'MODULE_PATHNAME', 'antiban_tier_label' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.tier_label(bigint, bigint) IS
    'Meta''s label of a volume band ("0:100000", "100001:1000000", "80000001:MAX"; next_after NULL for the top band).';

CREATE FUNCTION antiban.read_rate_card(csv text, currency text)
RETURNS TABLE (line integer, market text, marketing numeric, utility numeric, authentication numeric,
               authentication_international numeric, service numeric)
AS 'MODULE_PATHNAME', 'antiban_read_rate_card' LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION antiban.read_rate_card(text, text) IS
    'Read Meta''s rate card CSV (Market,Currency,Marketing,Utility,Authentication,Authentication-International,Service; a title line may precede the header) into one row per market, NULL for n/a. Errors name the line and column. Stores nothing: see antiban.load_rate_card.';

CREATE FUNCTION antiban.read_volume_tiers(csv text, currency text)
RETURNS TABLE (line integer, market text, category text, volume_after bigint, rate numeric)
AS 'MODULE_PATHNAME', 'antiban_read_volume_tiers' LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION antiban.read_volume_tiers(text, text) IS
    'Read a volume-tier CSV (Market,Currency,Category,From,To,Rate: one band per line, To empty or MAX for the top band) into bands, checked to cover every monthly count once per market and category. Errors name the line and column.';

-- ---- rate cards ----

CREATE TABLE antiban.rate_cards (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    currency        char(3) NOT NULL CONSTRAINT rate_cards_currency_code CHECK (currency ~ '^[A-Z]{3}$'),
    effective_from  date NOT NULL CONSTRAINT rate_cards_first_of_month CHECK (extract(day FROM effective_from) = 1),
    source          text NOT NULL,
    shipped         boolean NOT NULL DEFAULT false,
    loaded_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rate_cards_one_per_day UNIQUE (currency, effective_from)
);
COMMENT ON TABLE antiban.rate_cards IS
    'Meta''s price lists, one per currency and effective date (00:00 in each WABA''s time zone); each is in force until the next of its currency. shipped: came with antiban (see source); load Meta''s own files with antiban.load_rate_card.';

CREATE TABLE antiban.rates (
    card_id       bigint NOT NULL REFERENCES antiban.rate_cards ON DELETE CASCADE,
    market        text NOT NULL,
    category      text NOT NULL CONSTRAINT rates_category CHECK
                  (category IN ('marketing', 'utility', 'authentication', 'authentication_international', 'service')),
    volume_after  bigint NOT NULL DEFAULT 0 CONSTRAINT rates_volume_after CHECK (volume_after >= 0),
    -- numeric(14, 6) refuses Infinity but not NaN, which "rate >= 0" lets through
    rate          numeric(14, 6) NOT NULL CONSTRAINT rates_not_negative CHECK (rate >= 0)
                  CONSTRAINT rates_finite CHECK (rate <> 'NaN'),
    PRIMARY KEY (card_id, market, category, volume_after)
);
COMMENT ON TABLE antiban.rates IS
    'Price per delivered message on a card, per market and category; volume_after > 0 rows are volume-tier bands (the rate once the portfolio has sent that many charged messages of the category to the market this month). A missing row is n/a.';

-- With the caller's rights (readers read rate_cards and rates): no view a
-- reader may query keeps its owner's rights unless it must (sql/99_catalog).
CREATE VIEW antiban.rate_card WITH (security_invoker) AS
SELECT c.currency, c.effective_from, c.effective_until, r.market, r.category,
       antiban.tier_label(r.volume_after,
           lead(r.volume_after) OVER (PARTITION BY r.card_id, r.market, r.category ORDER BY r.volume_after)) AS tier,
       r.rate, c.source
FROM (SELECT rc.*, lead(rc.effective_from) OVER (PARTITION BY rc.currency ORDER BY rc.effective_from) AS effective_until
      FROM antiban.rate_cards rc) c
JOIN antiban.rates r ON r.card_id = c.id;
COMMENT ON VIEW antiban.rate_card IS
    'Every price: market x category x effective date x currency x volume tier ("0:MAX" when the category has no bands on that card).';

-- A card's prices, one row per market and category (n/a omitted).
CREATE FUNCTION antiban.rate_card_prices(csv text, currency text)
RETURNS TABLE (line integer, market text, category text, rate numeric)
LANGUAGE sql IMMUTABLE AS $$
    SELECT r.line, r.market, x.category, x.rate
    FROM antiban.read_rate_card(csv, currency) r,
         LATERAL (VALUES ('marketing', r.marketing), ('utility', r.utility), ('authentication', r.authentication),
                         ('authentication_international', r.authentication_international), ('service', r.service))
                 AS x(category, rate)
    WHERE x.rate IS NOT NULL
$$;
COMMENT ON FUNCTION antiban.rate_card_prices(text, text) IS
    'Meta''s rate card CSV as one row per market and category with a price (n/a omitted); errors name the line and column.';

-- The loaders and reprice_messages are SECURITY DEFINER (antiban_owner): an
-- administrator has no rights on rate_cards, rates or message_costs.  They
-- refuse a mapped administrator (refuse_install_wide looks at the outer user).
CREATE FUNCTION antiban.load_rate_card(csv text, effective date, currency text, source text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    code text := upper(currency);
    card bigint;
    dup record;
    unknown text;
    markets integer;
BEGIN
    PERFORM antiban.refuse_install_wide('load a rate card (every portfolio''s prices)');
    IF effective IS NULL OR extract(day FROM effective) <> 1 THEN
        RAISE EXCEPTION 'a rate card takes effect on the first day of a month, not on %', coalesce(effective::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Meta changes rates on January 1, April 1, July 1 and October 1, at 00:00 in each WABA''s time zone.';
    END IF;
    IF extract(month FROM effective) NOT IN (1, 4, 7, 10) THEN
        RAISE WARNING 'rate card effective % is not the start of a quarter', effective
            USING HINT = 'Meta changes rates only on January 1, April 1, July 1 and October 1.';
    END IF;
    -- reading checks the format (errors name line and column)
    SELECT r.market, min(r.line) AS first_line, max(r.line) AS again, count(*) OVER () AS markets INTO dup
    FROM antiban.read_rate_card(csv, code) r GROUP BY r.market ORDER BY count(*) DESC, 2 LIMIT 1;
    IF dup.again <> dup.first_line THEN
        RAISE EXCEPTION 'rate card line %: market "%" is already on line %', dup.again, dup.market, dup.first_line
            USING ERRCODE = 'unique_violation', HINT = 'Each market appears once on a card.';
    END IF;
    markets := coalesce(dup.markets, 0);
    IF markets = 0 THEN
        RAISE EXCEPTION 'the rate card has a header but no market lines'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass the whole CSV file, not only its first line.';
    END IF;
    SELECT string_agg(format('%s (line %s)', r.market, r.line), ', ' ORDER BY r.line) INTO unknown
    FROM antiban.read_rate_card(csv, code) r WHERE NOT antiban.is_pricing_market(r.market);
    IF unknown IS NOT NULL THEN
        RAISE WARNING 'rate card markets antiban does not map numbers to: %', unknown
            USING DETAIL = 'Their prices are stored, but no message is priced with them until antiban''s market map (src/core/pricing_market.c) knows them.',
                  HINT = 'Compare with SELECT DISTINCT market FROM antiban.pricing_markets(); a renamed market needs a new antiban version.';
    END IF;

    INSERT INTO antiban.rate_cards AS c (currency, effective_from, source)
    VALUES (code, effective, coalesce(source, format('loaded by %s on %s', session_user, current_date)))
    ON CONFLICT ON CONSTRAINT rate_cards_one_per_day
    DO UPDATE SET source = excluded.source, loaded_at = now(), shipped = false
    RETURNING c.id INTO card;
    WITH new AS MATERIALIZED (
        SELECT p.market, p.category, p.rate FROM antiban.rate_card_prices(csv, code) p
    ), gone AS (
        -- prices (and their bands) the new file no longer has are n/a now
        DELETE FROM antiban.rates o
        WHERE o.card_id = card AND NOT EXISTS (SELECT 1 FROM new n WHERE n.market = o.market AND n.category = o.category)
    )
    INSERT INTO antiban.rates AS o (card_id, market, category, volume_after, rate)
    SELECT card, n.market, n.category, 0, n.rate FROM new n
    ON CONFLICT (card_id, market, category, volume_after) DO UPDATE SET rate = excluded.rate;
    RETURN markets;
END
$$;
COMMENT ON FUNCTION antiban.load_rate_card(text, date, text, text) IS
    'Load (or replace) Meta''s rate card CSV for a currency, in force from effective (a first of the month, 00:00 in each WABA''s time zone) until the next card of that currency. Bad files are refused whole, the error naming line and column; markets antiban does not know are stored with a warning. Volume bands already loaded for the card stay. Returns the markets loaded.';

CREATE FUNCTION antiban.load_volume_tiers(csv text, effective date, currency text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    code text := upper(currency);
    card bigint;
    bad record;
    bands integer;
BEGIN
    PERFORM antiban.refuse_install_wide('load volume tiers (every portfolio''s prices)');
    SELECT c.id INTO card FROM antiban.rate_cards c WHERE c.currency = code AND c.effective_from = effective;
    IF card IS NULL THEN
        RAISE EXCEPTION 'there is no % rate card effective %', code, effective
            USING ERRCODE = 'undefined_object',
                  HINT = 'Load the card''s rates first with antiban.load_rate_card; its volume tiers belong to it.';
    END IF;
    -- a band refines a list price: the market must have one for that category
    FOR bad IN
        SELECT t.line, t.market, t.category, t.rate, r.rate AS list
        FROM antiban.read_volume_tiers(csv, code) t
        LEFT JOIN antiban.rates r ON r.card_id = card AND r.market = t.market AND r.category = t.category
                                  AND r.volume_after = 0
        WHERE t.volume_after = 0 AND (r.rate IS NULL OR r.rate <> t.rate)
        ORDER BY r.rate IS NULL DESC, t.line
    LOOP
        IF bad.list IS NULL THEN
            RAISE EXCEPTION 'volume tiers line %: the % card effective % has no % price for %', bad.line, code, effective,
                            bad.category, bad.market
                USING ERRCODE = 'foreign_key_violation',
                      HINT = 'Bands refine the card''s list price: load a card that prices this market and category.';
        END IF;
        RAISE WARNING 'volume tiers line %: the first % band of % costs %, the card''s list price is %; the list price stays',
                      bad.line, bad.category, bad.market, bad.rate, bad.list;
    END LOOP;
    DELETE FROM antiban.rates r
    WHERE r.card_id = card AND r.volume_after > 0
      AND (r.market, r.category) IN (SELECT t.market, t.category FROM antiban.read_volume_tiers(csv, code) t);
    INSERT INTO antiban.rates (card_id, market, category, volume_after, rate)
    SELECT card, t.market, t.category, t.volume_after, t.rate
    FROM antiban.read_volume_tiers(csv, code) t WHERE t.volume_after > 0;
    GET DIAGNOSTICS bands = ROW_COUNT;
    RETURN bands;
END
$$;
COMMENT ON FUNCTION antiban.load_volume_tiers(text, date, text) IS
    'Load the volume-tier bands of a card already loaded (same currency and date): Market,Currency,Category,From,To,Rate, one band per line, checked to cover every monthly count. Bands replace the card''s earlier bands for each market and category in the file; the first band is the card''s list price. Returns the bands stored above the first.';

-- ---- the cards antiban ships (USD; shared/pricing.md, compiled 2026-11-25) ----
-- Only cells pricing.md does not mark "(unverified)"; those are n/a here, so a
-- message they would price shows as unpriced rather than at a guessed price.
-- No card is shipped for 2025-10-01 or 2026-04-01 (pricing.md knows those
-- changes only in part): messages delivered in those quarters are priced
-- with the card before.  Load Meta's own files with antiban.load_rate_card.

CREATE FUNCTION antiban.ship_rate_card(effective date, source text, csv text) RETURNS void
LANGUAGE sql AS $$
    WITH card AS (
        INSERT INTO antiban.rate_cards (currency, effective_from, source, shipped)
        VALUES ('USD', effective, source, true) RETURNING id)
    INSERT INTO antiban.rates (card_id, market, category, rate)
    SELECT card.id, p.market, p.category, p.rate FROM card, antiban.rate_card_prices(csv, 'USD') p
$$;

SELECT antiban.ship_rate_card('2025-07-01',
    'pricing.md T4: Meta''s USD card effective 2025-07-01 as transcribed by docs.sent.dm and a calculator repo (15 markets; authentication = utility since 2025-07-01; India authentication-international from T3)', $card$
Market,Currency,Marketing,Utility,Authentication,Authentication-International,Service
Argentina,USD,0.0618,0.0289,0.0289,n/a,n/a
Brazil,USD,0.0625,0.0068,0.0068,n/a,n/a
Chile,USD,0.0889,0.0200,0.0200,n/a,n/a
Colombia,USD,0.0125,0.0002,0.0002,n/a,n/a
Germany,USD,0.1365,0.0550,0.0550,n/a,n/a
India,USD,0.0107,0.0014,0.0014,0.0280,n/a
Indonesia,USD,0.0411,0.0250,0.0250,n/a,n/a
Mexico,USD,0.0436,0.0085,0.0085,n/a,n/a
North America,USD,0.0250,0.0040,0.0040,n/a,n/a
Peru,USD,0.0703,0.0200,0.0200,n/a,n/a
Rest of Latin America,USD,0.0740,0.0113,0.0113,n/a,n/a
Rest of Western Europe,USD,0.0592,0.0171,0.0171,n/a,n/a
Spain,USD,0.0615,0.0200,0.0200,n/a,n/a
United Kingdom,USD,0.0529,0.0220,0.0220,n/a,n/a
Other,USD,0.0604,0.0077,0.0077,n/a,n/a
$card$);

SELECT antiban.ship_rate_card('2026-01-01',
    'pricing.md T3: table effective 2026-01-01, with the rows where T1 agrees (France, Egypt, Nigeria, Malaysia, United Arab Emirates utility); United Arab Emirates marketing left n/a (unverified)', $card$
Market,Currency,Marketing,Utility,Authentication,Authentication-International,Service
Argentina,USD,0.0618,0.0260,0.0260,n/a,n/a
Brazil,USD,0.0625,0.0068,0.0068,n/a,n/a
Chile,USD,0.0889,0.0200,0.0200,n/a,n/a
Colombia,USD,0.0125,0.0008,0.0008,n/a,n/a
Egypt,USD,0.0644,0.0036,0.0036,0.0650,n/a
France,USD,0.0859,0.0300,0.0300,n/a,n/a
Germany,USD,0.1365,0.0550,0.0550,n/a,n/a
India,USD,0.0118,0.0014,0.0014,0.0280,n/a
Indonesia,USD,0.0411,0.0250,0.0250,0.1360,n/a
Malaysia,USD,0.0860,0.0140,0.0140,0.0418,n/a
Mexico,USD,0.0305,0.0085,0.0085,n/a,n/a
Nigeria,USD,0.0516,0.0067,0.0067,0.0750,n/a
North America,USD,0.0250,0.0034,0.0034,n/a,n/a
Peru,USD,0.0703,0.0200,0.0200,n/a,n/a
Rest of Latin America,USD,0.0740,0.0113,0.0113,n/a,n/a
Rest of Western Europe,USD,0.0592,0.0171,0.0171,n/a,n/a
Spain,USD,0.0615,0.0200,0.0200,n/a,n/a
United Arab Emirates,USD,n/a,0.0157,0.0157,n/a,n/a
United Kingdom,USD,0.0529,0.0220,0.0220,n/a,n/a
Other,USD,0.0604,0.0077,0.0077,n/a,n/a
$card$);

SELECT antiban.ship_rate_card('2026-07-01',
    'pricing.md T2: notes quoting Meta''s USD CSV effective 2026-07-01, with Italy where T1 agrees; Peru left out (unverified)', $card$
Market,Currency,Marketing,Utility,Authentication,Authentication-International,Service
Argentina,USD,0.0618,0.0260,0.0260,n/a,n/a
Brazil,USD,0.0625,0.0068,0.0068,n/a,n/a
Chile,USD,0.0889,0.0200,0.0200,n/a,n/a
Colombia,USD,0.0125,0.0008,0.0008,n/a,n/a
Germany,USD,0.1365,0.0550,0.0550,n/a,n/a
India,USD,0.0118,0.0014,0.0014,n/a,n/a
Indonesia,USD,0.0411,0.0250,0.0250,n/a,n/a
Italy,USD,0.0795,0.0300,0.0300,n/a,n/a
Mexico,USD,0.0305,0.0085,0.0085,n/a,n/a
North America,USD,0.0250,0.0034,0.0034,n/a,n/a
Rest of Latin America,USD,0.0740,0.0113,0.0113,n/a,n/a
Rest of Western Europe,USD,0.0592,0.0171,0.0171,n/a,n/a
Spain,USD,0.0707,0.0200,0.0200,n/a,n/a
United Kingdom,USD,0.0635,0.0220,0.0220,n/a,n/a
Other,USD,0.0604,0.0077,0.0077,n/a,n/a
$card$);

SELECT antiban.ship_rate_card('2026-10-01',
    'pricing.md T1: code transcribing Meta''s USD card effective 2026-10-01 (T2, T3, T6 where they agree); left n/a as unverified: marketing in Mexico, Saudi Arabia, United Arab Emirates, Rest of Asia Pacific and Rest of Middle East, authentication-international in India, Morocco and Bangladesh; Service = the utility rate', $card$
Market,Currency,Marketing,Utility,Authentication,Authentication-International,Service
Argentina,USD,0.0618,0.0260,0.0260,n/a,0.0260
Bangladesh,USD,0.0732,0.0037,0.0037,n/a,0.0037
Brazil,USD,0.0625,0.0068,0.0068,n/a,0.0068
Chile,USD,0.0889,0.0200,0.0200,n/a,0.0200
Colombia,USD,0.0125,0.0008,0.0008,n/a,0.0008
Egypt,USD,0.0644,0.0036,0.0036,0.0650,0.0036
France,USD,0.0859,0.0300,0.0300,n/a,0.0300
Germany,USD,0.1365,0.0550,0.0550,n/a,0.0550
Hong Kong,USD,0.0732,0.0260,0.0260,n/a,0.0260
Hungary,USD,0.0860,0.0350,0.0350,n/a,0.0350
India,USD,0.0118,0.0014,0.0014,n/a,0.0014
Indonesia,USD,0.0411,0.0250,0.0250,0.1360,0.0250
Iraq,USD,0.0341,0.0079,0.0079,n/a,0.0079
Israel,USD,0.0353,0.0053,0.0053,n/a,0.0053
Italy,USD,0.0795,0.0300,0.0300,n/a,0.0300
Kazakhstan,USD,0.0604,0.0180,0.0180,n/a,0.0180
Kuwait,USD,0.0792,0.0440,0.0440,n/a,0.0440
Malaysia,USD,0.0860,0.0140,0.0140,0.0418,0.0140
Mexico,USD,n/a,0.0085,0.0085,n/a,0.0085
Morocco,USD,0.0414,0.0230,0.0230,n/a,0.0230
Nepal,USD,0.0732,0.0034,0.0034,n/a,0.0034
Netherlands,USD,0.1597,0.0500,0.0500,n/a,0.0500
Nigeria,USD,0.0516,0.0067,0.0067,0.0750,0.0067
North America,USD,0.0250,0.0034,0.0034,n/a,0.0034
Oman,USD,0.0341,0.0247,0.0247,n/a,0.0247
Pakistan,USD,0.0473,0.0150,0.0150,0.0750,0.0150
Peru,USD,0.0703,0.0300,0.0300,n/a,0.0300
Poland,USD,0.0366,0.0122,0.0122,n/a,0.0122
Qatar,USD,0.0341,0.0120,0.0120,n/a,0.0120
Rest of Africa,USD,0.0225,0.0040,0.0040,n/a,0.0040
Rest of Asia Pacific,USD,n/a,0.0113,0.0113,n/a,0.0113
Rest of Central & Eastern Europe,USD,0.0860,0.0212,0.0212,n/a,0.0212
Rest of Latin America,USD,0.0740,0.0113,0.0113,n/a,0.0113
Rest of Middle East,USD,n/a,0.0091,0.0091,n/a,0.0091
Rest of Western Europe,USD,0.0592,0.0171,0.0171,n/a,0.0171
Romania,USD,0.0860,0.0290,0.0290,n/a,0.0290
Russia,USD,0.0802,0.0400,0.0400,n/a,0.0400
Saudi Arabia,USD,n/a,0.0107,0.0107,0.0598,0.0107
Singapore,USD,0.0732,0.0160,0.0160,n/a,0.0160
South Africa,USD,0.0379,0.0095,0.0095,0.0200,0.0095
Spain,USD,0.0707,0.0200,0.0200,n/a,0.0200
Sri Lanka,USD,0.0732,0.0020,0.0020,n/a,0.0020
Turkey,USD,0.0109,0.0009,0.0009,n/a,0.0009
Ukraine,USD,0.0860,0.0298,0.0298,n/a,0.0298
United Arab Emirates,USD,n/a,0.0157,0.0157,0.0510,0.0157
United Kingdom,USD,0.0635,0.0220,0.0220,n/a,0.0220
Other,USD,0.0604,0.0077,0.0077,n/a,0.0077
$card$);

DROP FUNCTION antiban.ship_rate_card(date, text, text);

-- ---- the price of one message ----

-- The card in force for a currency on a local date and a market's bands in
-- a column (or, when the card has none there, the fallback column).  Plain
-- SQL with a standard body, so the planner inlines it into the statement
-- that charges a whole status batch.
CREATE FUNCTION antiban.card_bands(currency text, on_date date, market text, rate_column text, fallback_column text)
RETURNS TABLE (card_id bigint, card_effective date, afters bigint[], rates numeric[], unpriced_reason text)
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT c.id, c.effective_from, b.afters, b.rates,
           CASE WHEN c.id IS NULL THEN format('no %s rate card in force on %s', card_bands.currency, card_bands.on_date)
                WHEN b.afters IS NULL THEN format('the %s card of %s has no %s price for %s', card_bands.currency,
                                                  c.effective_from, coalesce(card_bands.rate_column, 'such'), card_bands.market)
           END
    FROM (SELECT 1) one
    LEFT JOIN LATERAL (SELECT rc.id, rc.effective_from FROM antiban.rate_cards rc
                       WHERE rc.currency = card_bands.currency AND rc.effective_from <= card_bands.on_date
                       ORDER BY rc.effective_from DESC LIMIT 1) c ON true
    LEFT JOIN LATERAL (SELECT array_agg(r.volume_after ORDER BY r.volume_after) AS afters,
                              array_agg(r.rate ORDER BY r.volume_after) AS rates
                       FROM antiban.rates r
                       WHERE r.card_id = c.id AND r.market = card_bands.market
                         AND r.category = (SELECT r2.category FROM antiban.rates r2
                                           WHERE r2.card_id = c.id AND r2.market = card_bands.market AND r2.volume_after = 0
                                             AND r2.category IN (card_bands.rate_column, card_bands.fallback_column)
                                           ORDER BY r2.category = card_bands.rate_column DESC LIMIT 1)
                       HAVING count(*) > 0) b ON true;
END;
COMMENT ON FUNCTION antiban.card_bands(text, date, text, text, text) IS
    'The rate card of a currency in force on a local date, and a market''s price bands in a column (or the fallback column): afters[i] messages counted this month before band i, rates[i] its price. unpriced_reason says why there are none.';

CREATE FUNCTION antiban.unit_price(currency text, on_date date, market text, rate_column text,
    fallback_column text, message_position bigint)
RETURNS TABLE (card_id bigint, card_effective date, tier text, unit_price numeric, unpriced_reason text)
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT b.card_id, b.card_effective,
           antiban.tier_label(b.afters[x.band], b.afters[x.band + 1]), b.rates[x.band], b.unpriced_reason
    FROM antiban.card_bands(unit_price.currency, unit_price.on_date, unit_price.market, unit_price.rate_column,
                            unit_price.fallback_column) b,
         LATERAL (SELECT antiban.tier_band(b.afters, coalesce(unit_price.message_position, 1)) AS band) x;
END;
COMMENT ON FUNCTION antiban.unit_price(text, date, text, text, text, bigint) IS
    'The price of one delivered message: the card of the currency in force on the WABA''s local date, the market''s price in the column (or the fallback column), at the volume band holding the month''s message number (NULL: the first band). unpriced_reason says why there is none.';

-- ---- what each delivered message cost ----

CREATE TABLE antiban.message_costs (
    message_id       bigint PRIMARY KEY,
    portfolio_id     bigint,
    waba_id          bigint,
    number_id        bigint,
    phone_number_id  text,
    recipient        text,
    campaign         text,
    delivered_at     timestamptz NOT NULL,
    local_date       date NOT NULL,
    currency         char(3) NOT NULL,
    country          text,
    market           text NOT NULL,
    pricing_model    text,
    pricing_type     text NOT NULL,
    pricing_category text,
    charged          boolean NOT NULL,
    rate_column      text,
    tier_counter     text,
    tier_position    bigint,
    tier             text,
    card_id          bigint REFERENCES antiban.rate_cards ON DELETE SET NULL,
    card_effective   date,
    unit_price       numeric(14, 6),
    cost             numeric(14, 6),
    unpriced_reason  text,
    charged_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_costs_waba_day ON antiban.message_costs (waba_id, local_date);
CREATE INDEX message_costs_day ON antiban.message_costs (local_date);
CREATE INDEX message_costs_delivered ON antiban.message_costs USING brin (delivered_at);
CREATE INDEX message_costs_campaign ON antiban.message_costs (campaign) WHERE campaign IS NOT NULL;
COMMENT ON TABLE antiban.message_costs IS
    'One row per delivered message whose status webhook carried pricing, written once (the first time it is both delivered and priced): free ones cost 0, charged ones the card''s price in the WABA''s currency at the volume tier reached (tier_position: the message''s number in its portfolio, market and counter that month, in the WABA''s time zone). cost NULL: charged but not priced, see unpriced_reason. Kept when the outbox row is deleted.';

-- Charged messages per portfolio, market, counter and month.  Rows are
-- shards: a charging transaction adds to a shard no other transaction holds
-- (SKIP LOCKED, or a new one), so concurrent webhook batches never wait for
-- each other nor deadlock; a month's count is the sum of its shards.
-- Batches committing at the same moment may number a few messages alike at
-- a band's edge; Meta's count includes other providers' traffic anyway.
CREATE SEQUENCE antiban.tier_volume_shards;
CREATE TABLE antiban.tier_volumes (
    portfolio_id  bigint NOT NULL,
    market        text NOT NULL,
    counter       text NOT NULL CHECK (counter IN ('utility', 'authentication')),
    month         date NOT NULL,
    shard         bigint NOT NULL DEFAULT nextval('antiban.tier_volume_shards'),
    charged       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (portfolio_id, market, counter, month, shard)
);
COMMENT ON TABLE antiban.tier_volumes IS
    'Charged messages this month per portfolio, market and volume counter (utility; authentication with authentication-international), summed over shards; the month is the WABA''s local one.';

CREATE FUNCTION antiban.add_tier_volume(portfolio bigint, market text, counter text, month date, messages bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    mine bigint;
    total bigint;
BEGIN
    SELECT v.shard INTO mine FROM antiban.tier_volumes v
    WHERE v.portfolio_id = portfolio AND v.market = add_tier_volume.market AND v.counter = add_tier_volume.counter
      AND v.month = add_tier_volume.month
    ORDER BY v.shard LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF mine IS NULL THEN
        INSERT INTO antiban.tier_volumes (portfolio_id, market, counter, month)
        VALUES (portfolio, market, counter, month) RETURNING shard INTO mine;
    END IF;
    UPDATE antiban.tier_volumes v SET charged = v.charged + messages
    WHERE v.portfolio_id = portfolio AND v.market = add_tier_volume.market AND v.counter = add_tier_volume.counter
      AND v.month = add_tier_volume.month AND v.shard = mine;
    SELECT sum(v.charged) INTO total FROM antiban.tier_volumes v
    WHERE v.portfolio_id = portfolio AND v.market = add_tier_volume.market AND v.counter = add_tier_volume.counter
      AND v.month = add_tier_volume.month;
    RETURN total - messages;
END
$$;
COMMENT ON FUNCTION antiban.add_tier_volume(bigint, text, text, date, bigint) IS
    'Internal: count messages charged messages toward a portfolio''s monthly volume for a market and counter; returns how many were counted before them (their numbers follow). Never waits for another transaction.';

CREATE FUNCTION antiban.charge_messages(ids bigint[]) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    written integer;
    -- (a few messages: generic plans, as under antiban.apply_webhooks;
    -- planned for each call of one message otherwise, 1.3 ms)
    plans text := antiban.plan_for_batch(cardinality(ids));
BEGIN
    WITH m AS MATERIALIZED (
        SELECT o.id, o.portfolio_id, w.id AS waba, o.number_id, o.phone_number_id, o.recipient,
               o.metadata ->> 'campaign' AS campaign, w.currency, d.at AS delivered_at,
               (d.at AT TIME ZONE w.timezone)::date AS local_date,
               date_trunc('month', d.at AT TIME ZONE w.timezone)::date AS month,
               o.pricing_model, o.pricing_type, o.pricing_category, p.*, k.country, k.market
        FROM antiban.outbox o
        JOIN antiban.numbers n ON n.id = o.number_id
        JOIN antiban.wabas w ON w.id = n.waba_id
        CROSS JOIN LATERAL (SELECT coalesce(o.delivered_at, o.read_at) AS at) d
        CROSS JOIN LATERAL antiban.pricing_rule(o.pricing_type, o.pricing_category) p
        CROSS JOIN LATERAL antiban.recipient_market(o.recipient, (d.at AT TIME ZONE w.timezone)::date) k
        WHERE o.id = ANY (ids) AND d.at IS NOT NULL AND o.pricing_type IS NOT NULL
          -- not charged yet: one probe of the key per message (a scalar
          -- subquery, never a join: the webhook path's generic plan, made
          -- while the table was empty and without sequential scans, read the
          -- whole key per batch or per message as an anti-join, 640,000
          -- entries for a batch of 1,470 after 60,000 deliveries;
          -- pg_regress 29_charge_plan)
          AND (SELECT c.message_id FROM antiban.message_costs c WHERE c.message_id = o.id) IS NULL
    ), counted AS MATERIALIZED (
        -- the month's count before this batch, per volume counter (in key order)
        SELECT g.portfolio_id, g.market, g.tier_counter, g.month,
               antiban.add_tier_volume(g.portfolio_id, g.market, g.tier_counter, g.month, g.messages) AS before
        FROM (SELECT m.portfolio_id, m.market, m.tier_counter, m.month, count(*) AS messages
              FROM m WHERE m.charged AND m.tier_counter IS NOT NULL AND m.pricing_model IS DISTINCT FROM 'CBP'
              GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4) g
    ), numbered AS (
        SELECT m.*, c.before + row_number() OVER (PARTITION BY m.portfolio_id, m.market, m.tier_counter, m.month
                                                  ORDER BY m.delivered_at, m.id) AS tier_position,
               m.charged AND m.rate_column IS NOT NULL AND m.pricing_model IS DISTINCT FROM 'CBP' AS priced
        FROM m LEFT JOIN counted c
          ON (c.portfolio_id, c.market, c.tier_counter, c.month) = (m.portfolio_id, m.market, m.tier_counter, m.month)
         AND m.charged AND m.pricing_model IS DISTINCT FROM 'CBP'
    ), cards AS MATERIALIZED (
        -- one card lookup per currency, day, market and column in the batch
        SELECT k.*, b.*
        FROM (SELECT DISTINCT x.currency, x.local_date, x.market, x.rate_column, x.fallback_column
              FROM numbered x WHERE x.priced) k,
             LATERAL antiban.card_bands(k.currency, k.local_date, k.market, k.rate_column, k.fallback_column) b
    ), priced AS (
        INSERT INTO antiban.message_costs AS mc (message_id, portfolio_id, waba_id, number_id, phone_number_id, recipient,
            campaign, delivered_at, local_date, currency, country, market, pricing_model, pricing_type, pricing_category,
            charged, rate_column, tier_counter, tier_position, tier, card_id, card_effective, unit_price, cost,
            unpriced_reason)
        SELECT x.id, x.portfolio_id, x.waba, x.number_id, x.phone_number_id, x.recipient, x.campaign, x.delivered_at,
               x.local_date, x.currency, x.country, x.market, x.pricing_model, x.pricing_type, x.pricing_category,
               x.charged, x.rate_column, x.tier_counter, CASE WHEN x.charged THEN x.tier_position END,
               antiban.tier_label(b.afters[u.band], b.afters[u.band + 1]), b.card_id, b.card_effective, b.rates[u.band],
               CASE WHEN NOT x.charged THEN 0 ELSE b.rates[u.band] END,
               CASE WHEN NOT x.charged THEN NULL
                    WHEN x.pricing_model = 'CBP' THEN 'conversation-based pricing (CBP): billed per conversation, not per message'
                    WHEN x.rate_column IS NULL THEN format('category %s is not priced per message', coalesce(x.pricing_category, '(none)'))
                    ELSE b.unpriced_reason END
        FROM numbered x
        LEFT JOIN cards b ON x.priced AND (b.currency, b.local_date, b.market, b.rate_column, b.fallback_column)
                                          IS NOT DISTINCT FROM (x.currency, x.local_date, x.market, x.rate_column, x.fallback_column)
        LEFT JOIN LATERAL (SELECT antiban.tier_band(b.afters, coalesce(x.tier_position, 1)) AS band) u ON true
        ON CONFLICT (message_id) DO NOTHING
        RETURNING 1
    )
    SELECT count(*) INTO written FROM priced;
    PERFORM antiban.plan_restore(plans);
    RETURN written;
END
$$;
COMMENT ON FUNCTION antiban.charge_messages(bigint[]) IS
    'Internal (called by the outbox''s cost triggers): write antiban.message_costs for those of these messages that are delivered and priced and not yet charged; returns how many.';

CREATE FUNCTION antiban.cost_note() RETURNS trigger
AS 'MODULE_PATHNAME', 'antiban_cost_note' LANGUAGE C;
COMMENT ON FUNCTION antiban.cost_note() IS
    'Row trigger: remember an outbox message that just became delivered and priced, for antiban.cost_flush.';
CREATE FUNCTION antiban.cost_flush() RETURNS trigger
AS 'MODULE_PATHNAME', 'antiban_cost_flush' LANGUAGE C;
COMMENT ON FUNCTION antiban.cost_flush() IS
    'Statement trigger: charge the messages antiban.cost_note remembered, in one call of antiban.charge_messages.';

-- (state is in the list so that a status that moves a row without restating
-- its pricing still charges it; the WHEN clause keeps every other row free)
CREATE TRIGGER cost_note AFTER UPDATE OF state, pricing_type, pricing_category ON antiban.outbox
    FOR EACH ROW
    WHEN (NEW.pricing_type IS NOT NULL AND coalesce(NEW.delivered_at, NEW.read_at) IS NOT NULL
          AND (OLD.pricing_type IS NULL OR coalesce(OLD.delivered_at, OLD.read_at) IS NULL))
    EXECUTE FUNCTION antiban.cost_note();
CREATE TRIGGER cost_flush AFTER UPDATE OF state, pricing_type, pricing_category ON antiban.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION antiban.cost_flush();

CREATE FUNCTION antiban.reprice_messages(since timestamptz, until timestamptz DEFAULT 'infinity') RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    changed integer;
BEGIN
    PERFORM antiban.refuse_install_wide('reprice every portfolio''s messages');
    WITH repriced AS (
        UPDATE antiban.message_costs mc SET
            card_id = u.card_id, card_effective = u.card_effective, tier = u.tier, unit_price = u.unit_price,
            cost = u.unit_price, unpriced_reason = u.unpriced_reason
        FROM antiban.message_costs x
        CROSS JOIN LATERAL antiban.pricing_rule(x.pricing_type, x.pricing_category) p
        CROSS JOIN LATERAL antiban.unit_price(x.currency, x.local_date, x.market, p.rate_column, p.fallback_column,
                                              x.tier_position) u
        WHERE mc.message_id = x.message_id AND x.charged AND p.rate_column IS NOT NULL
          AND x.pricing_model IS DISTINCT FROM 'CBP'
          AND x.delivered_at >= since AND x.delivered_at < until
          AND (mc.unit_price, mc.card_id, mc.tier) IS DISTINCT FROM (u.unit_price, u.card_id, u.tier)
        RETURNING 1)
    SELECT count(*) INTO changed FROM repriced;
    RETURN changed;
END
$$;
COMMENT ON FUNCTION antiban.reprice_messages(timestamptz, timestamptz) IS
    'Price again the charged messages delivered in [since, until) with the cards loaded now (after loading a missing or corrected card); tier positions stay. Returns the messages whose price changed.';

-- ---- a dry run: what sending would cost ----

CREATE FUNCTION antiban.expected_cost(waba text, category text, recipients text[],
    at timestamptz DEFAULT NULL, pricing_type text DEFAULT 'regular')
RETURNS TABLE (market text, messages bigint, cost numeric, currency text, unpriced_reason text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    w record;
    local_day date;
BEGIN
    SELECT x.id, x.portfolio_id, x.currency, x.timezone INTO w FROM antiban.wabas x WHERE x.waba_id = waba;
    IF w.id IS NULL THEN
        RAISE EXCEPTION 'unknown WABA %', waba USING ERRCODE = 'undefined_object',
              HINT = 'Pass the waba_id of a row of antiban.wabas.';
    END IF;
    local_day := (coalesce(at, antiban.now()) AT TIME ZONE w.timezone)::date;
    RETURN QUERY
    WITH per_market AS (
        SELECT k.market, count(*) AS n
        FROM unnest(recipients) r(recipient) CROSS JOIN LATERAL antiban.recipient_market(r.recipient, local_day) k
        GROUP BY k.market
    )
    SELECT pm.market, pm.n,
           CASE WHEN NOT p.charged THEN 0::numeric
                ELSE (SELECT sum(s.k * b.rates[s.i])
                      FROM unnest(antiban.tier_spread(b.afters, coalesce(v.counted, 0), pm.n)) WITH ORDINALITY s(k, i))
           END,
           w.currency::text,
           CASE WHEN NOT p.charged THEN NULL
                WHEN p.rate_column IS NULL THEN format('category %s is not priced per message', category)
                ELSE b.unpriced_reason END
    FROM per_market pm
    CROSS JOIN antiban.pricing_rule(pricing_type, category) p
    LEFT JOIN LATERAL antiban.card_bands(w.currency, local_day, pm.market, p.rate_column, p.fallback_column) b
           ON p.charged AND p.rate_column IS NOT NULL
    -- the portfolio's count this month continues (marginal prices)
    LEFT JOIN LATERAL (SELECT sum(t.charged)::bigint AS counted FROM antiban.tier_volumes t
                       WHERE t.portfolio_id = w.portfolio_id AND t.market = pm.market AND t.counter = p.tier_counter
                         AND t.month = date_trunc('month', local_day)::date) v ON true
    ORDER BY pm.market;
END
$$;
COMMENT ON FUNCTION antiban.expected_cost(text, text, text[], timestamptz, text) IS
    'Dry run: what sending one message of a category (if delivered, with pricing type regular unless told) to each recipient from a WABA would cost, per market, in the WABA''s currency with the card in force at that time, continuing the portfolio''s volume tiers of the month (marginal prices); cost NULL with unpriced_reason when no price is known. A campaign''s plan shows its expected cost with it. Nothing is recorded.';

-- ---- views: never summed across currencies ----

CREATE VIEW antiban.costs AS
SELECT mc.message_id, mc.local_date AS day, date_trunc('month', mc.local_date)::date AS month, mc.delivered_at,
       p.business_id, w.waba_id, mc.phone_number_id, mc.campaign, mc.recipient, mc.country, mc.market,
       mc.pricing_type, mc.pricing_category, mc.charged, mc.tier, mc.currency, mc.unit_price, mc.cost,
       mc.unpriced_reason
FROM antiban.message_costs mc
LEFT JOIN antiban.wabas w ON w.id = mc.waba_id
LEFT JOIN antiban.portfolios p ON p.id = mc.portfolio_id;
COMMENT ON VIEW antiban.costs IS
    'Every delivered message''s price with its portfolio, WABA, number, campaign, market and local day (the base of the cost_by_* views).';

CREATE VIEW antiban.cost_by_day AS
SELECT day, currency, count(*) AS messages, count(*) FILTER (WHERE charged) AS billed,
       count(*) FILTER (WHERE NOT charged) AS free, count(*) FILTER (WHERE charged AND cost IS NULL) AS unpriced,
       sum(cost) AS cost
FROM antiban.costs GROUP BY day, currency;
COMMENT ON VIEW antiban.cost_by_day IS 'Messages delivered, billed, free, unpriced and their cost per local day and currency.';

CREATE VIEW antiban.cost_by_number AS
SELECT day, phone_number_id, waba_id, currency, count(*) AS messages, count(*) FILTER (WHERE charged) AS billed,
       count(*) FILTER (WHERE NOT charged) AS free, count(*) FILTER (WHERE charged AND cost IS NULL) AS unpriced,
       sum(cost) AS cost
FROM antiban.costs GROUP BY day, phone_number_id, waba_id, currency;
COMMENT ON VIEW antiban.cost_by_number IS 'Cost per sending number and local day.';

CREATE VIEW antiban.cost_by_waba AS
SELECT day, waba_id, currency, count(*) AS messages, count(*) FILTER (WHERE charged) AS billed,
       count(*) FILTER (WHERE NOT charged) AS free, count(*) FILTER (WHERE charged AND cost IS NULL) AS unpriced,
       sum(cost) AS cost
FROM antiban.costs GROUP BY day, waba_id, currency;
COMMENT ON VIEW antiban.cost_by_waba IS 'Cost per WABA and local day.';

CREATE VIEW antiban.cost_by_portfolio AS
SELECT month, business_id, currency, count(*) AS messages, count(*) FILTER (WHERE charged) AS billed,
       count(*) FILTER (WHERE NOT charged) AS free, count(*) FILTER (WHERE charged AND cost IS NULL) AS unpriced,
       sum(cost) AS cost
FROM antiban.costs GROUP BY month, business_id, currency;
COMMENT ON VIEW antiban.cost_by_portfolio IS 'Cost per business portfolio and month (each WABA''s local month), per currency.';

CREATE VIEW antiban.cost_by_category AS
SELECT day, pricing_category, pricing_type, currency, count(*) AS messages,
       count(*) FILTER (WHERE charged AND cost IS NULL) AS unpriced, sum(cost) AS cost
FROM antiban.costs GROUP BY day, pricing_category, pricing_type, currency;
COMMENT ON VIEW antiban.cost_by_category IS 'Cost per webhook pricing category and type (regular, free_customer_service, free_entry_point) and local day.';

CREATE VIEW antiban.cost_by_market AS
SELECT day, market, country, currency, count(*) AS messages, count(*) FILTER (WHERE charged) AS billed,
       count(*) FILTER (WHERE charged AND cost IS NULL) AS unpriced, sum(cost) AS cost
FROM antiban.costs GROUP BY day, market, country, currency;
COMMENT ON VIEW antiban.cost_by_market IS 'Cost per pricing market, recipient country and local day.';

-- A campaign is, for now, the outbox's metadata->>'campaign'; the campaigns
-- work replaces the key with its own id.
CREATE VIEW antiban.cost_by_campaign AS
SELECT campaign, currency, min(day) AS first_day, max(day) AS last_day, count(*) AS messages,
       count(*) FILTER (WHERE charged) AS billed, count(*) FILTER (WHERE charged AND cost IS NULL) AS unpriced,
       sum(cost) AS cost
FROM antiban.costs WHERE campaign IS NOT NULL GROUP BY campaign, currency;
COMMENT ON VIEW antiban.cost_by_campaign IS 'Cost per campaign (the outbox''s metadata->>''campaign'') and currency.';

-- The building block of cost per lead: a person is, until the identity and
-- leads work lands, the recipient as sent.
CREATE VIEW antiban.cost_by_recipient AS
SELECT business_id, recipient, currency, min(day) AS first_day, max(day) AS last_day, count(*) AS messages,
       count(*) FILTER (WHERE charged) AS billed, sum(cost) AS cost
FROM antiban.costs GROUP BY business_id, recipient, currency;
COMMENT ON VIEW antiban.cost_by_recipient IS 'Cost per recipient (as sent) and portfolio: what cost per lead is built from.';

-- ==== FOR THE LEADS WORK: cost per lead, agent, qualified and won lead (ROI) ====
-- antiban.leads, agents and close_lead do not exist yet, and an install script
-- cannot create a view on tables that are not there.  The leads work adds
-- these views here, in this file, once its tables exist (one person per lead,
-- identifiers mapping recipients to persons):
--   antiban.cost_by_lead        lead, person, portfolio, currency, messages, cost
--       = cost_by_recipient joined through the person's identifiers
--   antiban.cost_by_agent       agent, currency, leads, messages, cost (leads assigned to the agent)
--   antiban.cost_per_qualified_lead  portfolio, month, currency, qualified leads, cost / qualified leads
--   antiban.lead_roi            portfolio, month, currency, won leads, value (close_lead's), cost,
--       value - cost, value / cost; never across currencies
-- ==================================================================================

-- The dashboard's costs panel (src/dashboard reads antiban.dashboard_<panel>):
-- this month so far in each WABA's own time zone and currency, by category.
CREATE VIEW antiban.dashboard_costs AS
SELECT w.waba_id AS waba, c.currency, coalesce(c.pricing_category, '(none)') AS category,
       count(*) FILTER (WHERE c.local_date = (antiban.now() AT TIME ZONE w.timezone)::date) AS billed_today,
       coalesce(sum(c.cost) FILTER (WHERE c.local_date = (antiban.now() AT TIME ZONE w.timezone)::date), 0) AS cost_today,
       count(*) AS billed_this_month, coalesce(sum(c.cost), 0) AS cost_this_month,
       count(*) FILTER (WHERE c.cost IS NULL) AS unpriced
FROM antiban.message_costs c JOIN antiban.wabas w ON w.id = c.waba_id
WHERE c.charged AND c.local_date >= date_trunc('month', antiban.now() AT TIME ZONE w.timezone)::date
GROUP BY w.waba_id, c.currency, coalesce(c.pricing_category, '(none)');
COMMENT ON VIEW antiban.dashboard_costs IS
    'Billed messages and their cost today and this month so far, per WABA, currency (never converted) and category, each WABA in its own time zone.';

-- What the functions above without one do (every SQL function has a comment).
COMMENT ON FUNCTION antiban.check_waba_timezone() IS
    'Trigger: a WABA''s time zone must be one PostgreSQL knows (pg_timezone_names): costs and volume tiers are counted in it.';
