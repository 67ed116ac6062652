/*
 * open_files.h
 *		A process's soft limit on open files raised to its hard limit (any
 *		process may): the receiver's client connections and a sender's
 *		requests in flight are each an open file, and a server started under
 *		systemd gets a soft limit of 1,024 below a far higher hard one.
 *		Header-only: the receiver is built apart from the extension.
 */
#ifndef ANTIBAN_OPEN_FILES_H
#define ANTIBAN_OPEN_FILES_H

#include <stdbool.h>
#include <sys/resource.h>

/* Raise it; *lim is then the limit in force.  False: it could not be read. */
static inline bool
open_files_raise_soft_limit(struct rlimit *lim)
{
	if (getrlimit(RLIMIT_NOFILE, lim) != 0)
		return false;
	if (lim->rlim_cur < lim->rlim_max)
	{
		struct rlimit raised = {.rlim_cur = lim->rlim_max, .rlim_max = lim->rlim_max};

		/* (read again: some kernels clamp what they were given, silently) */
		if (setrlimit(RLIMIT_NOFILE, &raised) == 0 && getrlimit(RLIMIT_NOFILE, &raised) == 0)
			*lim = raised;
	}
	return true;
}

#endif							/* ANTIBAN_OPEN_FILES_H */
