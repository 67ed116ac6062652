/*
 * body.h — antiban-receiver: a POST body kept within --max-body.
 *
 * Plain C over the request struct, no libmicrohttpd: the bytes a client
 * sends are handled here, so they can be fuzzed without a server
 * (regress/fuzz/fuzz_receiver.c).
 */
#ifndef RECEIVER_BODY_H
#define RECEIVER_BODY_H

#include "request.h"

#include <stdbool.h>
#include <stddef.h>

/* First allocation for a body; it doubles from there up to --max-body. */
#define BODY_INITIAL	(16 * 1024)

/*
 * The Content-Length header (NULL: none) against the limit: false when it
 * declares more than max_body (answer 413 before reading a byte).
 */
extern bool body_begin(request *req, const char *content_length, size_t max_body);

/*
 * Keeps n more bytes; false when the connection is not worth reading on
 * (far past the limit, or out of memory).  Past max_body nothing is kept
 * and req->too_large is set.
 */
extern bool body_append(request *req, const char *data, size_t n, size_t max_body);

#endif							/* RECEIVER_BODY_H */
