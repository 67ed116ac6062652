/*
 * recipient_state.h
 *		What antiban knows about one person in one portfolio, and the rules
 *		that change it: marketing consent by event time, a service window
 *		that never shrinks, and the merge of two records once two
 *		identifiers turn out to name one person.
 *
 * Meta's webhooks arrive late and out of order, and the same person may
 * have been known under two identifiers (a phone and a BSUID, an old and a
 * new number) before anything tied them: these rules make the result
 * independent of the order in which facts and links arrive.
 */
#ifndef ANTIBAN_RECIPIENT_STATE_H
#define ANTIBAN_RECIPIENT_STATE_H

#include <stdbool.h>
#include <stdint.h>

/* "No stop or resume known": any event wins over it. */
#define CONSENT_NEVER INT64_MIN

typedef struct RecipientState
{
	int64_t		last_reach;		/* REACH_NEVER: not counted */
	int64_t		last_sent;
	int64_t		last_number_id;
	int64_t		window_until;
	int64_t		window_number_id;
	int64_t		persisted_sent; /* last_sent as last written to the table */
	int64_t		consent_at;		/* event time of the stop or resume in force */
	int64_t		marketing_not_before;	/* Meta capped their marketing (131049) */
	bool		opted_out;		/* asked to stop marketing (this portfolio) */
	bool		uncommitted_window; /* the window is this transaction's own,
									 * not committed yet (a reader's view) */
} RecipientState;

extern void recipient_state_init(RecipientState *rs);

/*
 * Does a stop (opted_out) or resume stated at 'at' replace what rs holds?
 * The later event wins; at the same instant a stop wins (the conservative
 * reading of a tie).  An event equal to what is held changes nothing.
 */
extern bool consent_event_wins(const RecipientState *rs, bool opted_out, int64_t at);

/* Apply a stop or resume stated at 'at'; false when an event in force is newer. */
extern bool recipient_state_set_consent(RecipientState *rs, bool opted_out, int64_t at);

/*
 * The same for a statement made "as of now" by someone acting on what is
 * held (an operator, antiban.set_marketing_opt_out without a time): it also
 * wins a tie, or with a clock that stands still it could never undo.
 */
extern bool recipient_state_set_consent_now(RecipientState *rs, bool opted_out, int64_t now);

/* The person wrote to 'number_id': free-form allowed until 'until' (never shrinks). */
extern void recipient_state_open_window(RecipientState *rs, int64_t until, int64_t number_id);

/* Meta capped the person's marketing (131049): none before 'until' (never shortened). */
extern void recipient_state_defer_marketing(RecipientState *rs, int64_t until);

/*
 * Two records of one person become one, in 'into': consent from the later
 * event (a stop on a tie), the later window, the sticky number of the later
 * send, the later marketing deferral, and the later counted reach (a person is counted once).  Merging is
 * commutative and idempotent in everything a decision reads.
 */
extern void recipient_state_merge(RecipientState *into, const RecipientState *from);

#endif							/* ANTIBAN_RECIPIENT_STATE_H */
