/*
 * sender_open_files.c
 *		Room for antiban.max_inflight connections in the sender's limit on
 *		open files.
 *
 * Every request in flight holds a connection of its own (HTTP/1.1, never
 * multiplexed: cloudapi/transport.c), a socket outside PostgreSQL's own
 * count of the files it keeps open (max_safe_fds).  A server started under
 * systemd gets a soft limit of 1,024 and a far higher hard one; past the
 * soft limit libcurl could not open a connection, and the sends would fail
 * as if Meta were unreachable.  So the sender raises its soft limit to the
 * hard one, and says when the two together might still not fit.
 */
#include "postgres.h"

#include "storage/fd.h"

#include "core/open_files.h"
#include "worker/sender.h"

/*
 * Per request in flight: its socket, and while its host name is resolved
 * the socket pair of libcurl's threaded resolver.
 */
#define FILES_PER_REQUEST 2
/* fd.c's NUM_RESERVED_FDS, which max_safe_fds leaves out */
#define POSTGRES_RESERVED_FILES 10
/* libcurl's multi handle, the log, the latch: a margin */
#define OTHER_FILES 64

void
sender_fit_open_files(int max_inflight)
{
	/* what was last said, so that a reload that changed neither is quiet */
	static int	warned_inflight = -1;
	static rlim_t warned_limit = 0;
	struct rlimit lim;
	rlim_t		wanted;

	if (!open_files_raise_soft_limit(&lim))
		return;
	wanted = (rlim_t) FILES_PER_REQUEST * max_inflight + (rlim_t) max_safe_fds +
		POSTGRES_RESERVED_FILES + OTHER_FILES;
	if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= wanted ||
		(warned_inflight == max_inflight && warned_limit == lim.rlim_cur))
		return;
	warned_inflight = max_inflight;
	warned_limit = lim.rlim_cur;
	ereport(WARNING,
			(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
			 errmsg("open files limit of antiban sender might be too low for antiban.max_inflight = %d",
					max_inflight),
			 errdetail("The limit is " UINT64_FORMAT "; each request in flight holds a connection of its own, and PostgreSQL might keep up to %d files open besides.",
					   (uint64) lim.rlim_cur, max_safe_fds + POSTGRES_RESERVED_FILES),
			 errhint("Raise the server's hard limit on open files to at least " UINT64_FORMAT " (LimitNOFILE= in its systemd unit, or ulimit -Hn as root before pg_ctl), or lower antiban.max_inflight or max_files_per_process.",
					 (uint64) wanted)));
}
