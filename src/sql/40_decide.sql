-- The send decision and its log.

CREATE TABLE antiban.decisions (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    decided_at      timestamptz NOT NULL,
    recipient       text COLLATE "C" NOT NULL,
    category        antiban.category NOT NULL,
    priority        antiban.priority NOT NULL,
    outcome         antiban.outcome NOT NULL,
    reason          text NOT NULL,
    phone_number_id text,
    not_before      timestamptz,
    consumed        boolean NOT NULL,
    detail          text NOT NULL
);
CREATE INDEX decisions_decided_at ON antiban.decisions USING brin (decided_at);
-- A recipient is an E.164 number (or what a caller passed, if it did not parse):
-- looked up by equality, never sorted for people.  In "C" the index compares
-- bytes instead of going through the database's collation, which was a third
-- of the journal writer's insert.  The recipient alone is the key: a person's
-- decisions share one deduplicated entry, so the index is a quarter of the
-- size it had keyed (recipient, decided_at), whose entries were all distinct,
-- and costs the writer a quarter less per row; one person's rows are few to sort.
CREATE INDEX decisions_recipient ON antiban.decisions (recipient);
COMMENT ON TABLE antiban.decisions IS
    'Every decision antiban made, with its reason: "why was this message delayed?" in SQL. Written behind the hot path by the journal writer (antiban.flush_journal() forces it).';

CREATE FUNCTION antiban.decide(
    recipient text,
    category text,
    priority text DEFAULT 'normal',
    valid_until timestamptz DEFAULT NULL,
    from_number text DEFAULT NULL,
    portfolio text DEFAULT NULL,
    consume boolean DEFAULT true,
    frequency_caps text DEFAULT NULL,
    OUT outcome text,
    OUT reason text,
    OUT detail text,
    OUT phone_number_id text,
    OUT not_before timestamptz)
AS 'MODULE_PATHNAME', 'antiban_decide' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION antiban.decide(text, text, text, timestamptz, text, text, boolean, text) IS
    'SEND (with the number), QUEUE (with the earliest admissible time) or REJECT, with a machine-readable reason and a sentence. consume => true takes the tokens and counts the reach for a send made right away: at once, and they stay taken if the transaction rolls back (conservative); false only looks. Sees the calling transaction''s own uncommitted opt-outs, opt-ins and service windows. The contact policy: opted_out, no_opt_in (antiban.require_marketing_opt_in), frequency_cap (antiban.frequency_caps, or frequency_caps given here, e.g. a campaign''s own ''marketing=1/7d''), quiet_hours (antiban.quiet_hours in the recipient''s local time).';

CREATE FUNCTION antiban.frequency_caps_check(caps text) RETURNS text
AS 'MODULE_PATHNAME', 'antiban_frequency_caps_check' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION antiban.frequency_caps_check(text) IS
    'Frequency caps as given (the form of antiban.frequency_caps, e.g. ''marketing=1/7d, utility=3/1d'') if they parse, else an error naming what is wrong.';

CREATE FUNCTION antiban.flush_journal() RETURNS bigint
AS 'MODULE_PATHNAME', 'antiban_flush_journal' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.flush_journal() IS
    'Store buffered decisions and recipient facts now instead of at the journal writer''s next tick, in the caller''s transaction. Returns how many records it took from the buffer. When the journal writer holds, in a transaction not yet committed, records decided before this call, it first waits for that transaction (a lock wait: cancel, statement_timeout or lock_timeout end it, and nothing is taken before it ends, so nothing is lost), so that on return every decision made before the call is stored or in this transaction; except: a batch the writer could not store in time (a table locked, perhaps by the caller) is carried over to its next tick, and another session''s flush_journal stores what it took in its own transaction. In REPEATABLE READ or SERIALIZABLE, rows the writer committed during the wait are not visible to the caller''s snapshot.';

CREATE FUNCTION antiban.shared_memory(OUT antiban_bytes bigint, OUT page_bytes bigint, OUT huge_pages boolean)
AS 'MODULE_PATHNAME', 'antiban_shared_memory' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.shared_memory() IS
    'antiban_bytes: what antiban keeps in shared memory (token buckets, people, the journal ring, circuit breakers), in bytes, sized at server start by antiban.max_buckets, antiban.max_recipients and the journal''s settings. page_bytes: the kernel page size backing PostgreSQL''s shared memory, which holds it (4096, or 2097152 on huge pages; read from /proc/self/smaps, NULL where there is none). huge_pages: page_bytes is larger than the base page. Every decision reads that memory at random places: on small pages many reads miss the TLB (README, "Huge pages": decide 0.40 -> 0.51 x SELECT 1 on a 2-core virtual machine). PostgreSQL 15 does not report what huge_pages = try got; this does (read by the postmaster when it builds the segment: at start and after a crash restart). Install-wide, no tenant''s data. Errors when antiban is not preloaded.';

CREATE FUNCTION antiban.journal_stats(
    OUT buffered bigint, OUT capacity bigint, OUT flushed bigint, OUT written_directly bigint,
    OUT previous_shutdown text)
AS 'MODULE_PATHNAME', 'antiban_journal_stats' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.journal_stats() IS
    'The decision journal: records waiting in shared memory, ring size, records stored so far, and records written directly because the ring was full or the caller was outside antiban.database_name; and how the server went down before this start (clean, crashed, or unknown until the writer has looked). Install-wide: NULL for a role mapped to portfolios.';

CREATE TABLE antiban.journal_state (
    id              integer PRIMARY KEY CHECK (id = 1),
    clean_shutdown  boolean NOT NULL,
    started_at      timestamptz,
    stopped_at      timestamptz
);
COMMENT ON TABLE antiban.journal_state IS
    'Whether the journal writer stored everything before the last shutdown. After a crash, token buckets restart empty; after a clean shutdown, from what the journal knows.';
