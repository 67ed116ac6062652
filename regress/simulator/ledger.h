/*
 * ledger.h — what the simulator saw: every accepted message, duplicates of
 * biz_opaque_callback_data, limit violations and injected faults.  Kept in
 * memory; written to a file only on request (SIGUSR1, exit, or
 * POST /_sim/ledger/write).  Guarded by sim_lock.
 */
#ifndef LEDGER_H
#define LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"
#include "state.h"
#include "validate.h"

/* One accepted message.  Shared by the ledger and the webhook queues
 * (refs counts the holders); immutable once created except for the
 * webhook fields stage and due_ms. */
typedef struct sim_msg
{
	int			refs;
	msg_type	type;
	int			stage;			/* webhooks: next status to post */
	int			fail_code;		/* scripted asynchronous failure; 0 none */
	int64_t		accepted_ms;	/* wall clock */
	int64_t		due_ms;			/* webhooks: monotonic due time */
	const char *wamid;
	const char *number_id;
	const char *to;
	const char *recipient;		/* wa_id digits, or the BSUID */
	const char *template_name;	/* NULL for non-templates */
	const char *callback;		/* NULL when absent */
	const char *waba_id;
	const char *display;		/* digits of the display number */
	const char *category;		/* pricing category: marketing, utility, ..., service */
	bool		is_bsuid;		/* recipient is a business-scoped user id */
	char		data[];
} sim_msg;

typedef struct ledger_counters
{
	int64_t		accepted;
	int64_t		unique_callback;
	int64_t		duplicates;
	int64_t		violations[LIM__COUNT];
	int64_t		errors_injected;	/* scripted + fail-rate + error-rate-2 */
	int64_t		scripted;
	int64_t		fault_fail;
	int64_t		fault_error2;
	int64_t		dropped;
	int64_t		lost_replies;
	int64_t		slowed;
	int64_t		rejected_invalid;
	int64_t		marked_read;
	int64_t		async_failed;
	int64_t		not_stored;		/* accepted beyond --max-ledger */
} ledger_counters;

extern ledger_counters sim_ledger;

void		ledger_init(void);
void		ledger_clear(void);
/* Record an accepted send.  The caller gets one reference and must
 * msg_release() it; the ledger keeps its own while the message is stored. */
sim_msg    *ledger_accept(const sim_number *n, const send_request *req,
						  const char *category, int fail_code, int64_t wall_ms);
void		msg_release(sim_msg *m);
void		ledger_summary(sbuf *b);
/* Call fn for every stored message, in acceptance order. */
void		ledger_each(void (*fn) (const sim_msg *m, void *arg), void *arg);
void		ledger_messages_tsv(sbuf *b, size_t from, size_t limit);
bool		ledger_write_file(const char *path, char *err, size_t errlen);

#endif							/* LEDGER_H */
