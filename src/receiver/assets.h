/*
 * assets.h — antiban-receiver: the dashboard's static files, read once at
 * start from --admin-assets and served from memory.
 */
#ifndef RECEIVER_ASSETS_H
#define RECEIVER_ASSETS_H

#include <microhttpd.h>
#include <stdbool.h>

/*
 * Loads every servable file of dir (name of letters, digits, '.', '-', '_';
 * .html .js .css .svg .png .ico .json .map).  Returns how many; -1 when the
 * folder cannot be read (the page is then not served, /metrics still is).
 */
extern int	assets_load(const char *dir);

/*
 * The response for a path ("/" is index.html), with its Content-Type and
 * the security headers; NULL if there is no such file.  Shared: do not
 * destroy it.
 */
extern struct MHD_Response *assets_find(const char *path);

extern void assets_free(void);

#endif							/* RECEIVER_ASSETS_H */
