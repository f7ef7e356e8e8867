/* internal.h - the HTTP layer shared by qido.c, wado.c and stow.c. */
#ifndef SP_NET_INTERNAL
#error "net/internal.h is private to net/"
#endif
#ifndef SP_NET_INTERNAL_H
#define SP_NET_INTERNAL_H

#include <curl/curl.h>

#include "net/sp_net.h"

struct sp_dw_client {
    CURL *curl;
    char base[2048]; /* without a trailing '/' */
    char *userpwd;   /* owned, or NULL */
    long timeout_s;
    bool unreachable; /* the last request got no HTTP status line */
    char errbuf[CURL_ERROR_SIZE];
};

/* A growable memory buffer for small answers (JSON). */
typedef struct dw_buf {
    char *p;
    size_t len, cap, max; /* max: longest kept; more is an error */
    bool overflow;
} dw_buf;
void dw_buf_free(dw_buf *b);

/* Body source for a POST: called like curl's read callback. */
typedef size_t (*dw_read_fn)(char *dst, size_t size, size_t nitems, void *user);

/* One request. The answer's body goes to on_body when the status is 2xx and
 * on_body is set (a non-zero return aborts the transfer; the sink keeps its
 * own reason), else into body (up to body.max bytes; the rest dropped). */
typedef struct dw_request {
    const char *path;         /* below the base, e.g. "/studies" */
    const char *query;        /* without '?', or NULL; never logged */
    const char *accept;       /* Accept header */
    const char *content_type; /* POST only */
    dw_read_fn read;          /* POST body source, NULL for GET */
    void *read_user;
    curl_off_t body_size;
    int (*on_body)(void *user, const char *content_type, const void *p, size_t n);
    void *body_user;
    /* Filled in: */
    long status;
    char reason[64];          /* the status line's reason phrase */
    char content_type_in[512];
    dw_buf body;
    bool aborted;             /* on_body or read stopped the transfer */
} dw_request;

/* Performs r on c. Returns SP_OK when an HTTP answer came (any status: check
 * r->status), SP_EIO with "URL: curl's reason" otherwise (or SP_EIO with
 * "aborted" when a callback stopped it: r->aborted). The caller frees
 * r->body with dw_buf_free. */
sp_status dw_perform(sp_dw_client *c, dw_request *r, sp_err *err);

/* "BASE+PATH" for messages (no query string, which may hold patient data). */
void dw_display_url(const sp_dw_client *c, const char *path, char *out, size_t n);

/* Fails with "URL: HTTP 404 Not Found" (SP_EIO). */
sp_status dw_http_fail(const sp_dw_client *c, const dw_request *r, sp_err *err, const char *what);

#endif
