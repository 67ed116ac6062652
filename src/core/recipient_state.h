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

#include "frequency_cap.h"

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
	int64_t		opt_in_at;		/* latest marketing opt-in (CONSENT_NEVER: none) */
	int64_t		stop_at;		/* latest stop, in force or not (CONSENT_NEVER: none) */
	FrequencyLog sent[CAP_CATEGORIES];	/* recent sends per capped category */
	int64_t		time_zone_at;	/* when their own time zone was stated */
	uint16_t	time_zone;		/* the adapter's index of it; 0: from the number */
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

/*
 * The person opted in to marketing at 'at' (a form, an ad, a message, an
 * import): it is also a resume stated at 'at'.  Returns whether the resume
 * took effect (the opt-in is kept either way).
 */
extern bool recipient_state_opt_in(RecipientState *rs, int64_t at, bool as_of_now);

/*
 * A live opt-in: one not followed by a stop (at the same instant the stop
 * wins), whatever resumes came after that stop.  A stop kills every opt-in
 * before it; only a new opt-in gives marketing back when it is required.
 */
extern bool recipient_state_opt_in_live(const RecipientState *rs);

/*
 * Someone stated the person's own time zone at 'at' (0: none, go by the
 * number): a statement replaces any made before or at the same time
 * (merging two records breaks that tie by the larger index instead).
 */
extern void recipient_state_set_time_zone(RecipientState *rs, uint16_t zone, int64_t at);

/* The person wrote to 'number_id': free-form allowed until 'until' (never shrinks). */
extern void recipient_state_open_window(RecipientState *rs, int64_t until, int64_t number_id);

/* Meta capped the person's marketing (131049): none before 'until' (never shortened). */
extern void recipient_state_defer_marketing(RecipientState *rs, int64_t until);

/*
 * Two records of one person become one, in 'into': consent from the later
 * event (a stop on a tie), the later window, the sticky number of the later
 * send, the later marketing deferral, the later opt-in and stop, the
 * newest sends of both logs, the later stated time zone, and the later counted reach (a person is counted once).  Merging is
 * commutative and idempotent in everything a decision reads.
 */
extern void recipient_state_merge(RecipientState *into, const RecipientState *from);

#endif							/* ANTIBAN_RECIPIENT_STATE_H */
