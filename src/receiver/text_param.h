/*
 * text_param.h — antiban-receiver: is a header or query value worth a
 * database round trip?
 */
#ifndef RECEIVER_TEXT_PARAM_H
#define RECEIVER_TEXT_PARAM_H

#include <stdbool.h>

/*
 * Non-empty, at most MAX_TEXT_PARAM bytes of valid UTF-8 without control
 * characters.  The database would reject invalid UTF-8 with an error,
 * which must not turn into a 503 that invites retries.
 */
extern bool text_param_ok(const char *str);

#endif							/* RECEIVER_TEXT_PARAM_H */
