/*
 * webdir.h: `hearth serve --web DIR` (issue 19): the browser build's files
 * (web/, built into build-web/) served under /web/ beside the API, with the
 * headers that make the page cross-origin isolated (COOP/COEP, so the wasm
 * engine may use threads) and the right types (.wasm as application/wasm).
 */
#ifndef HEARTH_SERVER_WEBDIR_H
#define HEARTH_SERVER_WEBDIR_H

#include <microhttpd.h>
#include <stdbool.h>

#define SRV_WEB_PREFIX "/web/"

/* True if url is under the web prefix ("/web" or "/web/..."). */
bool srv_web_path(const char *url);

/* The response for GET/HEAD url (srv_web_path(url)) from directory dir:
 * the file, "/web" redirected to "/web/", a directory's index.html. A path
 * with a segment that starts with '.' (no "..", no hidden files), a
 * backslash, or that leaves dir through a symbolic link is 404; so is
 * anything that is not a regular file. OUT: *status. NULL when out of
 * memory. Thread-safe (reads only). */
struct MHD_Response *srv_web_answer(const char *dir, const char *url, unsigned *status);

#endif
