/*
 * sender_open_files.c
 *		Room for antiban.max_inflight connections in the sender's limit on
 *		open files.
 *
 * Every request in flight holds a connection of its own (HTTP/1.1, never
 * multiplexed: cloudapi/transport.c), a socket outside PostgreSQL's own
 * count of the files it keeps open (max_files_per_process).  A server
 * started under systemd gets a soft limit of 1,024 and a far higher hard
 * one; past the soft limit libcurl could not open a connection, and the
 * sends would fail as if Meta were unreachable.  So the sender raises its
 * soft limit to the hard one, and says when the two together may still not
 * fit.
 */
#include "postgres.h"

#include "storage/fd.h"

#include "core/open_files.h"

#include "worker/sender.h"

/* libcurl's own descriptors, the log, the latch: a margin */
#define OTHER_FILES 64

void
sender_fit_open_files(int max_inflight)
{
	struct rlimit lim;
	rlim_t		wanted;

	if (!open_files_raise_soft_limit(&lim))
		return;
	wanted = (rlim_t) max_inflight + (rlim_t) max_files_per_process + OTHER_FILES;
	if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < wanted)
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("antiban sender: antiban.max_inflight (%d) may not fit its limit on open files (%lu)",
						max_inflight, (unsigned long) lim.rlim_cur),
				 errdetail("Each request in flight is a connection of its own; PostgreSQL may keep up to max_files_per_process (%d) files open besides.",
						   max_files_per_process),
				 errhint("Raise the server's limit on open files to at least %lu (LimitNOFILE= in its systemd unit, ulimit -n before pg_ctl) or lower antiban.max_inflight.",
						 (unsigned long) wanted)));
}
