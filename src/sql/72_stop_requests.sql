-- Stop requests: the classifier (src/core/stop_request.c) as SQL, and the
-- reviews a person resolves when a message may or may not be one.

CREATE FUNCTION antiban.classify_stop(message text, source text DEFAULT 'text',
                                      OUT verdict text, OUT rule text, OUT explanation text)
AS 'MODULE_PATHNAME', 'antiban_classify_stop' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION antiban.classify_stop(text, text) IS
    'Does an inbound message ask to stop marketing? verdict: stop (block marketing now), doubtful (raise a review in antiban.stop_reviews) or not_stop; rule: a short name of what decided; explanation: for a person, quoting the message. Portuguese, Spanish and English, read as phrases (negation aware: "não quero sair" is not a stop). source: ''text'' for what the person typed, ''button'' or ''interactive'' for a reply to a button the business defined, which is a stop only for an explicit opt-out payload ("STOP", "Parar promoções").';

-- A message that may be a stop request: a person decides.
CREATE TABLE antiban.stop_reviews (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at      timestamptz NOT NULL DEFAULT antiban.now(),
    contact_id      bigint REFERENCES antiban.contacts,
    wamid           text UNIQUE,
    phone_number_id text,
    message         text NOT NULL,
    source          text NOT NULL DEFAULT 'text'
        CONSTRAINT stop_reviews_source CHECK (source IN ('text', 'button', 'interactive')),
    verdict         text NOT NULL
        CONSTRAINT stop_reviews_verdict CHECK (verdict IN ('stop', 'doubtful', 'not_stop')),
    rule            text NOT NULL,
    explanation     text NOT NULL,
    resolved_at     timestamptz,
    resolved_by     text,
    resolution      text CONSTRAINT stop_reviews_resolution CHECK (resolution IN ('stop', 'not_stop')),
    CONSTRAINT stop_reviews_resolved CHECK ((resolved_at IS NULL) = (resolution IS NULL))
);
CREATE INDEX stop_reviews_open ON antiban.stop_reviews (created_at) WHERE resolved_at IS NULL;
COMMENT ON TABLE antiban.stop_reviews IS
    'Inbound messages that may be requests to stop marketing (antiban.classify_stop said doubtful): nothing is blocked until a person resolves them with antiban.resolve_stop_review(id, is_stop). One row per inbound message (wamid).';
COMMENT ON COLUMN antiban.stop_reviews.phone_number_id IS 'The number the message came in on: a stop applies to its portfolio.';
COMMENT ON COLUMN antiban.stop_reviews.rule IS 'What antiban.classify_stop matched, e.g. not_interested, conditional, long_message.';
COMMENT ON COLUMN antiban.stop_reviews.resolution IS 'stop: marketing to the person was blocked when it was resolved; not_stop: nothing changed.';

CREATE FUNCTION antiban.resolve_stop_review(review bigint, is_stop boolean) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
DECLARE
    r antiban.stop_reviews;
    k antiban.contacts;
    answer text := CASE WHEN is_stop THEN 'stop' ELSE 'not_stop' END;
    number text;
BEGIN
    IF review IS NULL OR is_stop IS NULL THEN
        RAISE EXCEPTION 'review and is_stop must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- another portfolio's review is as unknown as a missing one
    SELECT * INTO r FROM antiban.stop_reviews x WHERE x.id = review
      AND antiban.may_use_portfolio((SELECT c.portfolio_id FROM antiban.contacts c WHERE c.id = x.contact_id))
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown stop review %', review
            USING ERRCODE = 'undefined_object',
                  HINT = 'The open reviews: SELECT * FROM antiban.stop_reviews WHERE resolved_at IS NULL.';
    END IF;
    IF r.resolution = answer THEN
        RETURN false;               -- already so: a retry changes nothing
    END IF;
    -- a reviewer may still decide it was a stop, never take a stop back
    IF r.resolution = 'stop' THEN
        RAISE EXCEPTION 'stop review % is already resolved as a stop', review
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Resolved at %s; marketing to the person was blocked then.', r.resolved_at),
                  HINT = 'If the person asks to hear from you again, use antiban.set_marketing_opt_out(recipient, phone_number_id, false).';
    END IF;
    UPDATE antiban.stop_reviews SET resolved_at = antiban.now(), resolved_by = session_user, resolution = answer
    WHERE id = review;
    IF is_stop THEN
        UPDATE antiban.contacts SET marketing_opt_out = true, opt_out_at = antiban.now(),
               opt_out_source = format('stop review %s', review)
        WHERE id = r.contact_id
        RETURNING * INTO k;
        number := coalesce(r.phone_number_id, k.last_phone_number_id);
        IF coalesce(k.wa_id, k.user_id) IS NOT NULL
           AND EXISTS (SELECT 1 FROM antiban.numbers n WHERE n.phone_number_id = number) THEN
            PERFORM antiban.set_marketing_opt_out(
                CASE WHEN k.wa_id IS NOT NULL THEN '+' || k.wa_id ELSE k.user_id END, number, true, NULL,
                'stop_review');
        END IF;
    END IF;
    RETURN true;
END
$$;
COMMENT ON FUNCTION antiban.resolve_stop_review(bigint, boolean) IS
    'A person''s answer to a stop review. is_stop: marketing to the person is blocked at once in the portfolio of the number the message came in on (as a detected stop would have been); otherwise nothing changes. Returns false if the review already had this answer; a review resolved as a stop cannot be turned back (use antiban.set_marketing_opt_out when the person asks).';
