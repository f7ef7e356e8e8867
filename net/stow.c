/* stow.c - STOW-RS store (POST /studies) of DICOM files, streamed from disk.
 *
 * DESIGN: files go in requests of at most 64 files / 256 MB, so a failed
 * request costs little and the server's answer stays small. The body is
 * produced by curl's read callback from a list of segments (part header,
 * file bytes, closing delimiter), with its length known up front (no
 * chunked encoding, which some servers refuse). Each file's SOP Instance
 * UID is read first: it is how the answer's ReferencedSOPSequence (stored)
 * and FailedSOPSequence (not stored, with a reason code) map to files. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SP_NET_INTERNAL
#include "io/dicom.h"
#include "net/internal.h"

#define STOW_MAX_FILES 64
#define STOW_MAX_BYTES (256LL << 20)

typedef struct stow_file {
    const char *path;
    int index;        /* into the caller's arrays */
    curl_off_t size;
    char sop[SP_UID_LEN];
} stow_file;

typedef struct stow_body {
    const char *boundary;
    stow_file *f;
    int n;
    int seg;          /* 2 per file (header, bytes), then the closing delimiter */
    size_t off;       /* within a header segment */
    FILE *cur;
    char head[256];   /* current text segment */
    size_t headlen;
    const char *bad_path; /* the file that stopped the upload */
} stow_body;

/* Text segment seg (even) of a body of n files into out; returns its length. */
static size_t text_segment(const char *boundary, int seg, int n, char *out, size_t size)
{
    if (seg == 2 * n) return (size_t)snprintf(out, size, "\r\n--%s--\r\n", boundary);
    return (size_t)snprintf(out, size, "%s--%s\r\nContent-Type: application/dicom\r\n\r\n", seg ? "\r\n" : "", boundary);
}

/* Fills dst from the segments in order: for file i a text segment (its part
 * header; CRLF + delimiter first when i > 0) and its bytes, then the closing
 * delimiter. Returns 0 at the end, CURL_READFUNC_ABORT when a file cannot be
 * read or is shorter than when it was measured. */
static size_t body_read(char *dst, size_t size, size_t nitems, void *user)
{
    stow_body *b = user;
    size_t cap = size * nitems, put = 0;
    while (put < cap && b->seg <= 2 * b->n) {
        if (b->seg % 2 == 0) { /* text: header of file seg/2, or the closing delimiter */
            if (b->off == 0) b->headlen = text_segment(b->boundary, b->seg, b->n, b->head, sizeof b->head);
            size_t k = b->headlen - b->off < cap - put ? b->headlen - b->off : cap - put;
            memcpy(dst + put, b->head + b->off, k);
            put += k, b->off += k;
            if (b->off == b->headlen) b->seg++, b->off = 0;
            continue;
        }
        stow_file *f = &b->f[b->seg / 2];
        if (!b->cur && !(b->cur = fopen(f->path, "rb"))) {
            b->bad_path = f->path;
            return CURL_READFUNC_ABORT;
        }
        size_t want = (size_t)(f->size - (curl_off_t)b->off);
        if (want > cap - put) want = cap - put;
        size_t k = fread(dst + put, 1, want, b->cur);
        put += k, b->off += k;
        if (k < want) { /* shrank or unreadable since it was measured */
            b->bad_path = f->path;
            return CURL_READFUNC_ABORT;
        }
        if ((curl_off_t)b->off == f->size) {
            fclose(b->cur);
            b->cur = NULL;
            b->seg++, b->off = 0;
        }
    }
    return put;
}

/* A boundary that will not occur in the files: 128 random bits. */
static void make_boundary(char *out, size_t n)
{
    unsigned char r[16] = {0};
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, r, sizeof r) != (ssize_t)sizeof r) { /* fall back on time and pid */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long long x = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)ts.tv_sec << 20) ^ (unsigned long long)getpid() << 40;
        for (int i = 0; i < 16; i++) r[i] = (unsigned char)(x >> (8 * (i % 8))) ^ (unsigned char)(i * 37);
    }
    if (fd >= 0) close(fd);
    int k = snprintf(out, n, "spinemet-");
    for (int i = 0; i < 16 && (size_t)k + 2 < n; i++) k += snprintf(out + k, n - (size_t)k, "%02x", r[i]);
}

/* Words for the Failure Reason (0008,1197) codes of PS3.4 / PS3.18. */
static const char *failure_text(int code)
{
    switch (code) {
    case 0x0110: return "processing failure";
    case 0x0112: return "no such object instance";
    case 0x0119: return "class-instance conflict";
    case 0x0122: return "SOP class not supported";
    case 0x0124: return "not authorized";
    case 0x0131: return "duplicate transaction UID";
    case 0xA700: return "out of resources";
    case 0xA900: return "data set does not match SOP class";
    case 0xC000: return "cannot understand";
    case 0xC122: return "referenced transfer syntax not supported";
    }
    return "refused";
}

/* Marks the batch's files from the answer: stored when referenced, failed
 * with the server's reason when listed as failed, else with `otherwise`. */
static void read_answer(const cJSON *j, stow_file *f, int n, sp_dw_store_result *res, const char *otherwise, bool ok_default)
{
    for (int i = 0; i < n; i++) {
        res[f[i].index].stored = ok_default;
        snprintf(res[f[i].index].reason, sizeof res[f[i].index].reason, "%s", ok_default ? "" : otherwise);
    }
    static const char *const seqs[2] = {"00081199", "00081198"};
    for (int s = 0; s < 2 && cJSON_IsObject(j); s++) {
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, seqs[s]), "Value");
        const cJSON *it;
        cJSON_ArrayForEach(it, seq)
        {
            const cJSON *uv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(it, "00081155"), "Value");
            const cJSON *u = cJSON_GetArrayItem(uv, 0);
            const cJSON *rv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(it, "00081197"), "Value");
            const cJSON *rc = cJSON_GetArrayItem(rv, 0);
            if (!cJSON_IsString(u)) continue;
            for (int i = 0; i < n; i++) {
                if (strcmp(f[i].sop, u->valuestring)) continue;
                sp_dw_store_result *r = &res[f[i].index];
                r->stored = s == 0;
                if (s == 0) r->reason[0] = '\0';
                else if (cJSON_IsNumber(rc))
                    snprintf(r->reason, sizeof r->reason, "server refused it: %s (failure reason 0x%04X)",
                             failure_text(rc->valueint), (unsigned)rc->valueint);
                else snprintf(r->reason, sizeof r->reason, "server refused it (no reason given)");
            }
        }
    }
}

/* One request with files f[0..n). Returns SP_EIO only when no answer came. */
static sp_status store_batch(sp_dw_client *c, stow_file *f, int n, sp_dw_store_result *res, sp_err *err)
{
    char boundary[64], ctype[160], why[256];
    make_boundary(boundary, sizeof boundary);
    snprintf(ctype, sizeof ctype, "multipart/related; type=\"application/dicom\"; boundary=%s", boundary);
    stow_body b = {.boundary = boundary, .f = f, .n = n};
    char seg[256];
    curl_off_t total = 0;
    for (int i = 0; i <= n; i++)
        total += (i < n ? f[i].size : 0) + (curl_off_t)text_segment(boundary, 2 * i, n, seg, sizeof seg);
    dw_request r = {.path = "/studies", .accept = "application/dicom+json", .content_type = ctype,
                    .read = body_read, .read_user = &b, .body_size = total};
    sp_err e = {0};
    sp_status st = dw_perform(c, &r, &e);
    if (b.cur) fclose(b.cur);
    if (st != SP_OK) {
        if (b.bad_path) sp_fail(&e, SP_EIO, "not sent: %s could not be read, or changed while being sent", b.bad_path);
        for (int i = 0; i < n; i++) {
            res[f[i].index].stored = false;
            snprintf(res[f[i].index].reason, sizeof res[f[i].index].reason, "%s", e.msg);
        }
        dw_buf_free(&r.body);
        if (b.bad_path) return SP_OK; /* a bad file fails its request, not the push */
        return sp_fail(err, st, "%s", e.msg);
    }
    cJSON *j = r.body.len && !r.body.overflow ? cJSON_ParseWithLength(r.body.p, r.body.len) : NULL;
    sp_err he = {0};
    dw_http_fail(c, &r, &he, "store (STOW-RS)");
    snprintf(why, sizeof why, "%s", he.msg);
    if (r.status == 200) read_answer(j, f, n, res, "", true); /* 200: all stored */
    else if (r.status == 202 || r.status == 409)
        read_answer(j, f, n, res, r.status == 202 ? "not in the server's list of stored files (HTTP 202)" : why, false);
    else read_answer(NULL, f, n, res, why, false);
    cJSON_Delete(j);
    dw_buf_free(&r.body);
    return SP_OK;
}

/* Size and SOP Instance UID of one file; false (and res filled) when it
 * cannot be sent. */
static bool measure(const char *path, stow_file *f, sp_dw_store_result *res)
{
    struct stat sb;
    sp_dicom_header h;
    sp_err e = {0};
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(res->reason, sizeof res->reason, "cannot read: %s", errno ? strerror(errno) : "not a file");
        return false;
    }
    if (sp_dicom_read_header(path, &h, &e) != SP_OK) { /* the caller names the file */
        size_t pl = strlen(path);
        const char *why = !strncmp(e.msg, path, pl) && !strncmp(e.msg + pl, ": ", 2) ? e.msg + pl + 2 : e.msg;
        snprintf(res->reason, sizeof res->reason, "not sent: %s", why);
        return false;
    }
    f->path = path;
    f->size = (curl_off_t)sb.st_size;
    snprintf(f->sop, sizeof f->sop, "%s", h.sop_instance_uid);
    sp_dicom_header_clear(&h);
    if (!f->sop[0]) {
        snprintf(res->reason, sizeof res->reason, "not sent: no SOP Instance UID");
        return false;
    }
    return true;
}

sp_status sp_dw_store(sp_dw_client *c, const char *const *paths, int n, sp_dw_store_result *res, sp_err *err)
{
    stow_file *f = calloc((size_t)(n > 0 ? n : 1), sizeof *f);
    if (!f) return sp_fail(err, SP_ENOMEM, "out of memory");
    memset(res, 0, (size_t)(n > 0 ? n : 0) * sizeof *res);
    sp_dicom_init();
    sp_err e = {0};
    sp_status st = SP_OK;
    int k = 0;
    curl_off_t bytes = 0;
    for (int i = 0; i < n && st == SP_OK; i++) {
        stow_file one = {.index = i};
        errno = 0;
        if (!measure(paths[i], &one, &res[i])) continue;
        if (k && (k == STOW_MAX_FILES || bytes + one.size > STOW_MAX_BYTES)) { /* send what is collected */
            st = store_batch(c, f, k, res, &e);
            k = 0, bytes = 0;
        }
        f[k++] = one;
        bytes += one.size;
    }
    if (st == SP_OK && k) st = store_batch(c, f, k, res, &e);
    if (st != SP_OK) { /* the server is unreachable: what is left is not tried */
        for (int i = 0; i < n; i++)
            if (!res[i].stored && !res[i].reason[0]) snprintf(res[i].reason, sizeof res[i].reason, "not sent: %s", e.msg);
        sp_fail(err, st, "%s", e.msg);
    }
    free(f);
    return st;
}
