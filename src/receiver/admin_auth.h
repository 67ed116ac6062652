/*
 * admin_auth.h — antiban-receiver: HTTP basic auth of the admin listener.
 */
#ifndef RECEIVER_ADMIN_AUTH_H
#define RECEIVER_ADMIN_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Reads --admin-auth-file: one "user:hash" per line ('#' comments and blank
 * lines skipped), hash a crypt(3) string ($2b$/$2y$ bcrypt, $y$ yescrypt,
 * $6$ or $5$ SHA-crypt) or "sha256:" and 64 hex digits.  False with a
 * message in err (which never quotes a hash).
 */
extern bool admin_auth_load(const char *path, char *err, size_t errlen);

/* Whether auth is required (a file was loaded). */
extern bool admin_auth_enabled(void);

/* Whether user and password match a line of the file (constant time). */
extern bool admin_auth_check(const char *user, const char *password);

extern void admin_auth_free(void);

#endif							/* RECEIVER_ADMIN_AUTH_H */
