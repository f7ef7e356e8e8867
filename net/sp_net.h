/* sp_net.h - DICOMweb client (QIDO-RS search, WADO-RS retrieve, STOW-RS
 * store) on libcurl, and the streaming multipart/related parser it uses.
 *
 * Nothing here is called from a parallel region; a client is used by one
 * thread at a time. Messages name the server URL (never a query string, which
 * can hold a Patient ID) and the reason: HTTP status, curl error, parse
 * error. Docs: docs/pacs.md. */
#ifndef SP_NET_H
#define SP_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sp_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Multipart/related parser (RFC 2046), fed in chunks --------------- */

/* Called at the start of each part with its raw header block (NUL-terminated,
 * lines ending in CRLF, no final empty line; "" when the part has none), for
 * each run of body bytes, and at its end. A non-zero return aborts the
 * parse: sp_mp_feed returns SP_EINTERNAL ("stopped by the receiver"); the
 * receiver keeps its own reason. */
typedef struct sp_mp_callbacks {
    int (*part_begin)(void *user, const char *headers);
    int (*part_data)(void *user, const uint8_t *p, size_t n);
    int (*part_end)(void *user);
    void *user;
} sp_mp_callbacks;

typedef struct sp_mp_parser sp_mp_parser;

/* A parser for the given boundary (without the leading "--"; 1..200
 * characters, no CR/LF). Returns NULL on a bad boundary or no memory.
 * cb is copied. Free with sp_mp_free (NULL ok). */
sp_mp_parser *sp_mp_new(const char *boundary, const sp_mp_callbacks *cb);
void sp_mp_free(sp_mp_parser *p);

/* Feeds n bytes, any split. Returns SP_OK, SP_EDICOM with a reason for
 * malformed input (headers too long, junk after a delimiter), or
 * SP_EINTERNAL when a callback stopped it; unusable after an error. */
sp_status sp_mp_feed(sp_mp_parser *p, const void *data, size_t n, sp_err *err);

/* After the last byte: SP_OK when the closing delimiter was seen, SP_EDICOM
 * ("truncated") otherwise. */
sp_status sp_mp_finish(sp_mp_parser *p, sp_err *err);

/* Parts completed so far. */
int sp_mp_parts(const sp_mp_parser *p);

/* The value of parameter name (case-insensitive) of a header value such as
 * `multipart/related; type="application/dicom"; boundary=abc`, unquoted,
 * into out. Returns false when absent or longer than n-1. */
bool sp_mp_param(const char *header_value, const char *name, char *out, size_t n);

/* The value of header name (case-insensitive) in a raw header block, leading
 * and trailing blanks removed, into out. Returns false when absent. */
bool sp_mp_header(const char *headers, const char *name, char *out, size_t n);

/* ---- DICOMweb client ---------------------------------------------------- */

typedef struct sp_dw_opts {
    const char *base_url; /* DICOMweb root, e.g. http://host:8042/dicom-web (trailing / ok) */
    const char *userpwd;  /* "user:password" for HTTP basic auth, or NULL */
    long timeout_s;       /* connect timeout, and abort when nothing arrives for this long */
} sp_dw_opts;

typedef struct sp_dw_client sp_dw_client;

/* A client for one server. SP_EINVAL for an empty URL, SP_EINTERNAL when
 * libcurl cannot start; *out NULL then. Free with sp_dw_free (NULL ok). */
sp_status sp_dw_new(const sp_dw_opts *o, sp_dw_client **out, sp_err *err);
void sp_dw_free(sp_dw_client *c);

/* True when the client's last request got no HTTP answer at all (name not
 * resolved, connection refused, TLS failure, timeout before the answer):
 * further requests to this server are likely to fail the same way. */
bool sp_dw_unreachable(const sp_dw_client *c);

/* Overwrites the password of a "user:password" string in place with '*'
 * (for --user's argv string once the client holds a copy, so that it does
 * not stay readable in /proc/PID/cmdline). NULL ok. */
void sp_net_mask_password(char *userpwd);

/* QIDO-RS study search filters; NULL or "" = no filter. */
typedef struct sp_dw_query {
    const char *study_uid, *patient_id, *modality, *study_date, *accession;
} sp_dw_query;

/* Searches studies, following limit/offset pages. *uids is a malloc'ed
 * array of *n malloc'ed Study Instance UIDs (free with sp_dw_strings_free),
 * possibly empty. Returns SP_EIO for connection / HTTP failures, SP_EDICOM
 * for an answer that is not QIDO JSON, SP_ENOMEM. */
sp_status sp_dw_search_studies(sp_dw_client *c, const sp_dw_query *q, char ***uids, int *n, sp_err *err);
void sp_dw_strings_free(char **v, int n);

/* Retrieves a whole study with WADO-RS (transfer syntax as stored) into the
 * existing folder dir: one file per DICOM part, named <SOP Instance UID>.dcm
 * (part<N>.dcm when the part's header cannot be read), each written to a
 * temporary name and renamed when complete. The body is streamed to disk,
 * never held in memory. *nfiles = files written. Returns SP_EIO for
 * connection / HTTP / disk failures (404: study not on the server),
 * SP_EDICOM for a malformed or non-multipart answer. */
sp_status sp_dw_retrieve_study(sp_dw_client *c, const char *study_uid, const char *dir, int *nfiles, sp_err *err);

/* Per-file outcome of a store. */
typedef struct sp_dw_store_result {
    bool stored;
    char reason[200]; /* why not, when !stored */
} sp_dw_store_result;

/* Stores files with STOW-RS (POST /studies), streaming them from disk, in
 * requests of at most 64 files / 256 MB. Files must be DICOM Part 10; one
 * that is not, or cannot be read, fails alone. res[i] (caller-allocated, n
 * entries) says what became of paths[i], matched by SOP Instance UID in the
 * server's answer. Returns SP_OK when the requests were answered (even if
 * some files failed: see res), SP_EIO when the server cannot be reached. */
sp_status sp_dw_store(sp_dw_client *c, const char *const *paths, int n, sp_dw_store_result *res, sp_err *err);

#ifdef __cplusplus
}
#endif
#endif
