/* wado.c - WADO-RS retrieval of a whole study (GET /studies/{uid}) into a
 * folder, one file per DICOM part.
 *
 * DESIGN: curl's write callback feeds the multipart parser, whose part
 * callbacks write straight to a temporary file in the folder; when a part
 * is complete its header is read (DCMTK shim) for the SOP Instance UID and
 * the file is fsynced and renamed to <uid>.dcm. So memory use does not grow with the
 * study, and a file with a final name is always complete. The Accept header
 * asks for transfer-syntax=* (the file as stored, no transcoding), which
 * keeps the files byte for byte as the modality sent them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SP_NET_INTERNAL
#include "core/sp_log.h"
#include "io/dicom.h"
#include "net/internal.h"

typedef struct wado_sink {
    const char *dir;
    sp_mp_parser *mp;
    bool not_multipart;
    char content_type[512]; /* of the answer, for messages */
    FILE *f;                /* current part's temporary file, NULL when skipped */
    char tmp[4200];
    int parts, files, skipped;
    sp_err err;             /* the sink's own failure reason */
    bool failed;
} wado_sink;

static int part_begin(void *user, const char *headers)
{
    wado_sink *s = user;
    char type[256];
    s->parts++;
    /* A part without Content-Type is taken as DICOM (the answer's type= says so). */
    if (sp_mp_header(headers, "Content-Type", type, sizeof type) && strncasecmp(type, "application/dicom", 17) != 0) {
        s->skipped++;
        s->f = NULL;
        return 0;
    }
    snprintf(s->tmp, sizeof s->tmp, "%s/.part-%ld.tmp", s->dir, (long)getpid());
    if (!(s->f = fopen(s->tmp, "wb"))) {
        sp_fail(&s->err, SP_EIO, "%s: cannot create (%s)", s->tmp, strerror(errno));
        s->failed = true;
        return 1;
    }
    return 0;
}

static int part_data(void *user, const uint8_t *p, size_t n)
{
    wado_sink *s = user;
    if (s->f && fwrite(p, 1, n, s->f) != n) {
        sp_fail(&s->err, SP_EIO, "%s: cannot write (%s)", s->tmp, strerror(errno));
        s->failed = true;
        return 1;
    }
    return 0;
}

/* A SOP Instance UID is digits and dots; anything else is not used as a name. */
static bool uid_ok(const char *u)
{
    size_t n = strlen(u);
    return n > 0 && n < SP_UID_LEN && strspn(u, "0123456789.") == n;
}

static int part_end(void *user)
{
    wado_sink *s = user;
    char name[4200];
    sp_dicom_header h;
    if (!s->f) return 0;
    /* On disk before it gets its final name: a named file is a whole file,
     * even after a power cut. */
    int bad = fflush(s->f) != 0 || fsync(fileno(s->f)) != 0;
    bad |= fclose(s->f) != 0;
    s->f = NULL;
    if (bad) {
        sp_fail(&s->err, SP_EIO, "%s: cannot write (%s)", s->tmp, strerror(errno));
        s->failed = true;
        return 1;
    }
    bool named = sp_dicom_read_header(s->tmp, &h, NULL) == SP_OK && uid_ok(h.sop_instance_uid);
    if (named) snprintf(name, sizeof name, "%s/%s.dcm", s->dir, h.sop_instance_uid);
    else snprintf(name, sizeof name, "%s/part%05d.dcm", s->dir, s->parts);
    sp_dicom_header_clear(&h);
    if (rename(s->tmp, name) != 0) {
        sp_fail(&s->err, SP_EIO, "%s: cannot rename (%s)", name, strerror(errno));
        s->failed = true;
        return 1;
    }
    s->files++;
    return 0;
}

/* The first body bytes carry the answer's Content-Type: make the parser. */
static int on_body(void *user, const char *content_type, const void *p, size_t n)
{
    wado_sink *s = user;
    if (!s->mp) {
        char boundary[256];
        snprintf(s->content_type, sizeof s->content_type, "%s", content_type);
        if (strncasecmp(content_type, "multipart/related", 17) != 0 ||
            !sp_mp_param(content_type, "boundary", boundary, sizeof boundary)) {
            s->not_multipart = true;
            return 1;
        }
        sp_mp_callbacks cb = {part_begin, part_data, part_end, s};
        if (!(s->mp = sp_mp_new(boundary, &cb))) {
            s->not_multipart = true;
            return 1;
        }
    }
    sp_err e = {0};
    if (sp_mp_feed(s->mp, p, n, &e) == SP_OK) return 0;
    if (!s->failed) s->err = e, s->failed = true;
    return 1;
}

sp_status sp_dw_retrieve_study(sp_dw_client *c, const char *study_uid, const char *dir, int *nfiles, sp_err *err)
{
    char path[512], shown[2600];
    wado_sink s = {.dir = dir};
    *nfiles = 0;
    if (!uid_ok(study_uid)) return sp_fail(err, SP_EINVAL, "'%s' is not a Study Instance UID", study_uid);
    sp_dicom_init();
    snprintf(path, sizeof path, "/studies/%s", study_uid);
    dw_display_url(c, path, shown, sizeof shown);
    dw_request r = {.path = path,
                    .accept = "multipart/related; type=\"application/dicom\"; transfer-syntax=*",
                    .on_body = on_body,
                    .body_user = &s};
    sp_status st = dw_perform(c, &r, err);
    bool open_part = s.f != NULL;
    if (open_part) fclose(s.f);
    if (s.tmp[0] && (open_part || st != SP_OK)) unlink(s.tmp); /* an unfinished part */
    if (st != SP_OK && s.not_multipart)
        st = sp_fail(err, SP_EDICOM, "%s: the answer is not multipart/related with a boundary (Content-Type %s)", shown,
                     s.content_type[0] ? s.content_type : "none");
    else if (st != SP_OK && s.failed)
        st = sp_fail(err, s.err.code == SP_EIO ? SP_EIO : SP_EDICOM, "%s: %s", shown, s.err.msg);
    else if (st == SP_OK && (r.status < 200 || r.status >= 300))
        st = dw_http_fail(c, &r, err, "retrieve (WADO-RS)");
    else if (st == SP_OK && !s.mp)
        st = sp_fail(err, SP_EDICOM, "%s: empty answer (HTTP %ld)", shown, r.status);
    else if (st == SP_OK && sp_mp_finish(s.mp, &s.err) != SP_OK)
        st = sp_fail(err, SP_EDICOM, "%s: %s", shown, s.err.msg);
    else if (st == SP_OK && s.files == 0)
        st = sp_fail(err, SP_EDICOM, "%s: no DICOM part in the answer (%d parts)", shown, s.parts);
    if (st == SP_OK && s.skipped) sp_log(SP_LOG_WARN, "%s: %d parts that are not application/dicom skipped", shown, s.skipped);
    *nfiles = s.files;
    sp_mp_free(s.mp);
    dw_buf_free(&r.body);
    return st;
}
