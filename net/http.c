/* http.c - the DICOMweb client's HTTP layer on one libcurl easy handle.
 *
 * DESIGN: one handle per client, reset before each request, so keep-alive
 * connections are reused between the requests of a pull or push. Timeouts:
 * connecting may take at most timeout_s, and a transfer that receives
 * nothing for timeout_s is aborted (no total limit: a 500 MB study takes as
 * long as it takes). Only http and https are allowed, redirects included.
 * Messages carry the URL without its query string. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SP_NET_INTERNAL
#include "net/internal.h"
#include "sp_version.h"

sp_status sp_dw_new(const sp_dw_opts *o, sp_dw_client **out, sp_err *err)
{
    *out = NULL;
    if (!o->base_url || !o->base_url[0]) return sp_fail(err, SP_EINVAL, "no DICOMweb URL");
    size_t len = strlen(o->base_url);
    while (len && o->base_url[len - 1] == '/') len--;
    if (len == 0 || len >= sizeof ((sp_dw_client *)0)->base)
        return sp_fail(err, SP_EINVAL, "DICOMweb URL empty or too long");
    if (strncmp(o->base_url, "http://", 7) && strncmp(o->base_url, "https://", 8))
        return sp_fail(err, SP_EINVAL, "%s: not an http:// or https:// URL", o->base_url);
    static bool global_done;
    if (!global_done) { /* once per process, before any thread uses curl */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return sp_fail(err, SP_EINTERNAL, "libcurl: init failed");
        global_done = true;
    }
    sp_dw_client *c = calloc(1, sizeof *c);
    if (!c) return sp_fail(err, SP_ENOMEM, "out of memory");
    memcpy(c->base, o->base_url, len);
    c->base[len] = '\0';
    c->timeout_s = o->timeout_s > 0 ? o->timeout_s : 60;
    if (o->userpwd && !(c->userpwd = strdup(o->userpwd))) {
        free(c);
        return sp_fail(err, SP_ENOMEM, "out of memory");
    }
    if (!(c->curl = curl_easy_init())) {
        sp_dw_free(c);
        return sp_fail(err, SP_EINTERNAL, "libcurl: cannot create a handle");
    }
    *out = c;
    return SP_OK;
}

void sp_dw_free(sp_dw_client *c)
{
    if (!c) return;
    if (c->curl) curl_easy_cleanup(c->curl);
    if (c->userpwd) { /* do not leave the password in freed memory */
        memset(c->userpwd, 0, strlen(c->userpwd));
        free(c->userpwd);
    }
    free(c);
}

bool sp_dw_unreachable(const sp_dw_client *c) { return c->unreachable; }

void sp_net_mask_password(char *userpwd)
{
    char *colon = userpwd ? strchr(userpwd, ':') : NULL;
    if (colon) memset(colon + 1, '*', strlen(colon + 1));
}

void dw_buf_free(dw_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void buf_add(dw_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->max) {
        b->overflow = true;
        n = b->max > b->len ? b->max - b->len : 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->overflow = true;
            return;
        }
        b->p = q, b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void dw_display_url(const sp_dw_client *c, const char *path, char *out, size_t n)
{
    snprintf(out, n, "%s%s", c->base, path);
}

/* Status line and Content-Type of the last answer (a redirect or a
 * 100 Continue starts a new one). */
static size_t on_header(char *line, size_t size, size_t nitems, void *user)
{
    dw_request *r = user;
    size_t n = size * nitems;
    char h[1024];
    size_t k = n < sizeof h - 1 ? n : sizeof h - 1;
    memcpy(h, line, k);
    while (k && (h[k - 1] == '\r' || h[k - 1] == '\n')) k--;
    h[k] = '\0';
    if (!strncmp(h, "HTTP/", 5)) {
        const char *sp = strchr(h, ' ');
        r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        const char *ph = sp ? strchr(sp + 1, ' ') : NULL;
        snprintf(r->reason, sizeof r->reason, "%s", ph ? ph + 1 : "");
        r->content_type_in[0] = '\0';
    } else if (!strncasecmp(h, "content-type:", 13)) {
        const char *v = h + 13;
        while (*v == ' ' || *v == '\t') v++;
        snprintf(r->content_type_in, sizeof r->content_type_in, "%s", v);
    }
    return n;
}

static size_t on_write(char *p, size_t size, size_t nitems, void *user)
{
    dw_request *r = user;
    size_t n = size * nitems;
    if (r->on_body && r->status >= 200 && r->status < 300) {
        if (r->on_body(r->body_user, r->content_type_in, p, n)) {
            r->aborted = true;
            return 0; /* curl stops with CURLE_WRITE_ERROR */
        }
        return n;
    }
    buf_add(&r->body, p, n);
    return n;
}

static void set_common(sp_dw_client *c, dw_request *r, const char *url, struct curl_slist *hdr)
{
    CURL *h = c->curl;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->timeout_s);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->timeout_s);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the _STR forms; the old ones are deprecated */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(h, CURLOPT_USERAGENT, "spinemet/" SP_VERSION);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    if (c->userpwd) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERPWD, c->userpwd);
    }
}

sp_status dw_perform(sp_dw_client *c, dw_request *r, sp_err *err)
{
    char url[8192], shown[2200], accept[600], ctype[600];
    struct curl_slist *hdr = NULL, *t;
    r->status = 0;
    r->reason[0] = r->content_type_in[0] = '\0';
    r->aborted = false;
    if (!r->body.max) r->body.max = 64u << 20;
    if (snprintf(url, sizeof url, "%s%s%s%s", c->base, r->path, r->query ? "?" : "", r->query ? r->query : "") >= (int)sizeof url)
        return sp_fail(err, SP_EINVAL, "%s%s: URL too long", c->base, r->path);
    dw_display_url(c, r->path, shown, sizeof shown);
    snprintf(accept, sizeof accept, "Accept: %s", r->accept);
    hdr = curl_slist_append(hdr, accept);
    if (r->read) {
        snprintf(ctype, sizeof ctype, "Content-Type: %s", r->content_type);
        if (hdr && (t = curl_slist_append(hdr, ctype))) hdr = t;
        if (hdr && (t = curl_slist_append(hdr, "Expect:"))) hdr = t; /* no 100-continue round trip */
    }
    if (!hdr) return sp_fail(err, SP_ENOMEM, "out of memory");
    set_common(c, r, url, hdr);
    if (r->read) {
        curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
        curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, r->read);
        curl_easy_setopt(c->curl, CURLOPT_READDATA, r->read_user);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, r->body_size);
    }
    c->errbuf[0] = '\0';
    CURLcode rc = curl_easy_perform(c->curl);
    curl_slist_free_all(hdr);
    c->unreachable = rc != CURLE_OK && r->status == 0;
    if (rc == CURLE_OK) return SP_OK;
    if (r->aborted || rc == CURLE_ABORTED_BY_CALLBACK) {
        r->aborted = true;
        return sp_fail(err, SP_EIO, "%s: transfer stopped", shown);
    }
    return sp_fail(err, SP_EIO, "%s: %s (curl error %d)", shown, c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc), (int)rc);
}

sp_status dw_http_fail(const sp_dw_client *c, const dw_request *r, sp_err *err, const char *what)
{
    char shown[2200];
    dw_display_url(c, r->path, shown, sizeof shown);
    const char *hint = r->status == 401 || r->status == 403 ? " (check --user)"
                       : r->status == 404                    ? " (not on the server, or not a DICOMweb root)"
                                                             : "";
    return sp_fail(err, SP_EIO, "%s: %s: HTTP %ld%s%s%s", shown, what, r->status, r->reason[0] ? " " : "", r->reason, hint);
}
