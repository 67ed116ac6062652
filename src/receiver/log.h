/*
 * log.h — antiban-receiver: timestamped lines on stderr.
 */
#ifndef RECEIVER_LOG_H
#define RECEIVER_LOG_H

#include <stddef.h>

/* One line, written with a single write(2) so threads never interleave. */
extern void log_line(const char *fmt,...) __attribute__((format(printf, 1, 2)));

/*
 * Copies at most dstlen - 1 bytes of src into dst, replacing anything but
 * printable ASCII with '?': paths and methods come from the network and
 * must not forge log lines or carry terminal escapes.
 */
extern void log_sanitize(char *dst, size_t dstlen, const char *src);

#endif							/* RECEIVER_LOG_H */
