/* multipart.c - streaming multipart/related parser (RFC 2046 / RFC 2387) for
 * WADO-RS answers, fed by curl's write callback in chunks of any size.
 *
 * DESIGN: a study can be hundreds of MB, so body bytes are passed on as they
 * arrive and never buffered; only the part headers (at most 16 KB) are.
 * The delimiter is CRLF "--" boundary. The stream is treated as if it began
 * with CRLF, so the first delimiter (at offset 0, without a CRLF) needs no
 * special case. Body scanning keeps only the length of a partial delimiter
 * match across chunks: the matched bytes equal the delimiter's prefix, so on
 * a mismatch they are re-emitted from the delimiter itself. As boundaries
 * may not contain CR, and CR occurs in the delimiter only at its first byte,
 * a mismatch can only restart a match at the current byte. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "net/sp_net.h"

#define MP_MAX_BOUNDARY 200
#define MP_MAX_HEADERS 16384

typedef enum mp_state {
    MP_PREAMBLE, /* before the first delimiter: discarded */
    MP_AFTER_DELIM, /* after a delimiter: "--" (end), or blanks then CRLF */
    MP_HEADERS,
    MP_BODY,
    MP_EPILOGUE, /* after the closing delimiter: ignored */
    MP_FAILED
} mp_state;

struct sp_mp_parser {
    sp_mp_callbacks cb;
    char delim[MP_MAX_BOUNDARY + 5]; /* CRLF "--" boundary */
    size_t dlen, m;                  /* delimiter length, bytes matched so far */
    mp_state state;
    char after[2];                   /* bytes seen after a delimiter */
    int nafter;
    char *hbuf;                      /* header block of the current part */
    size_t hlen;
    int parts;
};

sp_mp_parser *sp_mp_new(const char *boundary, const sp_mp_callbacks *cb)
{
    size_t bl = boundary ? strlen(boundary) : 0;
    if (bl == 0 || bl > MP_MAX_BOUNDARY || strpbrk(boundary, "\r\n")) return NULL;
    sp_mp_parser *p = calloc(1, sizeof *p);
    if (!p || !(p->hbuf = malloc(MP_MAX_HEADERS + 1))) {
        free(p);
        return NULL;
    }
    p->cb = *cb;
    memcpy(p->delim, "\r\n--", 4);
    memcpy(p->delim + 4, boundary, bl);
    p->dlen = bl + 4;
    p->m = 2; /* the virtual CRLF before the first byte */
    p->state = MP_PREAMBLE;
    return p;
}

void sp_mp_free(sp_mp_parser *p)
{
    if (!p) return;
    free(p->hbuf);
    free(p);
}

int sp_mp_parts(const sp_mp_parser *p) { return p->parts; }

static sp_status fail(sp_mp_parser *p, sp_err *err, sp_status code, const char *why)
{
    p->state = MP_FAILED;
    return sp_fail(err, code, "multipart: %s (after %d complete parts)", why, p->parts);
}

/* Passes body bytes on (discards them in the preamble). */
static int emit(sp_mp_parser *p, const uint8_t *d, size_t n)
{
    if (n == 0 || p->state != MP_BODY || !p->cb.part_data) return 0;
    return p->cb.part_data(p->cb.user, d, n);
}

/* Scans body (or preamble) bytes for the delimiter; returns bytes used, or
 * (size_t)-1 when a callback aborted. Stops right after a full delimiter.
 * Bytes d[start..i) are data not yet passed on; `carried` bytes of the
 * current match came from earlier chunks (they equal delim's prefix). */
static size_t scan_body(sp_mp_parser *p, const uint8_t *d, size_t n, bool *found)
{
    size_t i = 0, start = 0, carried = p->m;
    *found = false;
    while (i < n) {
        if (p->m == 0) { /* not inside a match: jump to the next CR */
            const uint8_t *cr = memchr(d + i, '\r', n - i);
            size_t at = cr ? (size_t)(cr - d) : n;
            if (emit(p, d + start, at - start)) return (size_t)-1;
            start = i = at;
            carried = 0;
            if (!cr) return n;
        }
        if (d[i] == (uint8_t)p->delim[p->m]) {
            i++;
            if (++p->m == p->dlen) {
                p->m = 0;
                *found = true;
                return i;
            }
        } else {
            /* Mismatch: the matched bytes were data. Those from earlier chunks
             * go out now (from delim); those of this chunk stay pending in
             * d[start..i). d[i] is looked at again: it may start a match. */
            if (carried && emit(p, (const uint8_t *)p->delim, carried)) return (size_t)-1;
            carried = 0;
            p->m = 0;
        }
    }
    /* Chunk ends inside a match: d[start..n) are held as its bytes (m). */
    return n;
}

/* After a delimiter: "--" closes; otherwise optional blanks, then CRLF. */
static sp_status after_delim(sp_mp_parser *p, uint8_t c, sp_err *err)
{
    if (p->nafter == 0 && c == '-') {
        p->after[p->nafter++] = '-';
        return SP_OK;
    }
    if (p->nafter == 1 && p->after[0] == '-') {
        if (c != '-') return fail(p, err, SP_EDICOM, "junk after a delimiter");
        p->state = MP_EPILOGUE;
        return SP_OK;
    }
    if (c == ' ' || c == '\t') return SP_OK; /* transport padding */
    if (c == '\r' && p->nafter == 0) {
        p->after[p->nafter++] = '\r';
        return SP_OK;
    }
    if (c == '\n' && p->nafter == 1 && p->after[0] == '\r') {
        p->state = MP_HEADERS;
        p->hlen = 0;
        return SP_OK;
    }
    return fail(p, err, SP_EDICOM, "junk after a delimiter");
}

/* Collects header bytes until the empty line. */
static sp_status header_byte(sp_mp_parser *p, uint8_t c, sp_err *err)
{
    if (p->hlen >= MP_MAX_HEADERS) return fail(p, err, SP_EDICOM, "part headers longer than 16 KB");
    p->hbuf[p->hlen++] = (char)c;
    bool end = (p->hlen == 2 && !memcmp(p->hbuf, "\r\n", 2)) ||
               (p->hlen >= 4 && !memcmp(p->hbuf + p->hlen - 4, "\r\n\r\n", 4));
    if (!end) return SP_OK;
    p->hlen -= 2; /* drop the empty line, keep the last header's CRLF */
    p->hbuf[p->hlen] = '\0';
    p->state = MP_BODY;
    if (p->cb.part_begin && p->cb.part_begin(p->cb.user, p->hbuf)) return fail(p, err, SP_EINTERNAL, "stopped by the receiver");
    return SP_OK;
}

sp_status sp_mp_feed(sp_mp_parser *p, const void *data, size_t n, sp_err *err)
{
    const uint8_t *d = data;
    size_t i = 0;
    while (i < n) {
        sp_status st = SP_OK;
        switch (p->state) {
        case MP_PREAMBLE:
        case MP_BODY: {
            bool found;
            bool in_part = p->state == MP_BODY;
            size_t used = scan_body(p, d + i, n - i, &found);
            if (used == (size_t)-1) return fail(p, err, SP_EINTERNAL, "stopped by the receiver");
            i += used;
            if (found) {
                if (in_part) {
                    p->parts++;
                    if (p->cb.part_end && p->cb.part_end(p->cb.user)) return fail(p, err, SP_EINTERNAL, "stopped by the receiver");
                }
                p->state = MP_AFTER_DELIM;
                p->nafter = 0;
            }
            continue;
        }
        case MP_AFTER_DELIM: st = after_delim(p, d[i++], err); break;
        case MP_HEADERS: st = header_byte(p, d[i++], err); break;
        case MP_EPILOGUE: return SP_OK;
        case MP_FAILED: return sp_fail(err, SP_EDICOM, "multipart: parser used after an error");
        }
        if (st != SP_OK) return st;
    }
    return SP_OK;
}

sp_status sp_mp_finish(sp_mp_parser *p, sp_err *err)
{
    if (p->state == MP_EPILOGUE) return SP_OK;
    if (p->state == MP_FAILED) return sp_fail(err, SP_EDICOM, "multipart: parse failed earlier");
    return fail(p, err, SP_EDICOM, "truncated: no closing delimiter");
}

/* ---- Header helpers ----------------------------------------------------- */

static bool copy_out(const char *s, size_t len, char *out, size_t n)
{
    if (len + 1 > n) return false;
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

bool sp_mp_param(const char *v, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    const char *s = strchr(v, ';');
    while (s) {
        s++;
        while (*s == ' ' || *s == '\t') s++;
        const char *eq = strchr(s, '=');
        if (!eq) return false;
        const char *ke = eq;
        while (ke > s && (ke[-1] == ' ' || ke[-1] == '\t')) ke--;
        const char *val = eq + 1;
        while (*val == ' ' || *val == '\t') val++;
        bool match = (size_t)(ke - s) == nl && !strncasecmp(s, name, nl);
        if (*val == '"') { /* quoted-string; backslash escapes one character */
            char tmp[512];
            size_t k = 0;
            for (val++; *val && *val != '"'; val++) {
                if (*val == '\\' && val[1]) val++;
                if (k + 1 < sizeof tmp) tmp[k++] = *val;
            }
            if (match) return copy_out(tmp, k, out, n);
            s = strchr(val, ';');
        } else {
            size_t len = strcspn(val, ";");
            while (len && (val[len - 1] == ' ' || val[len - 1] == '\t' || val[len - 1] == '\r' || val[len - 1] == '\n')) len--;
            if (match) return copy_out(val, len, out, n);
            s = strchr(val, ';');
        }
    }
    return false;
}

bool sp_mp_header(const char *h, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *line = h; *line;) {
        const char *eol = strstr(line, "\r\n");
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > nl && !strncasecmp(line, name, nl) && line[nl] == ':') {
            const char *v = line + nl + 1, *e = line + len;
            while (v < e && isspace((unsigned char)*v)) v++;
            while (e > v && isspace((unsigned char)e[-1])) e--;
            return copy_out(v, (size_t)(e - v), out, n);
        }
        line += len + (eol ? 2 : 0);
    }
    return false;
}
