/* batch_cohort.c - cohort.csv: every study's report.csv rows under one
 * header, with a leading study_id column, sorted by study id.
 *
 * DESIGN: rows are kept as parsed fields, mapped onto the columns of the
 * first file read by column name, so results written by another spinemet
 * version (a column added or dropped) still line up: unknown columns are
 * dropped with a warning, missing ones are empty. Fields are parsed and
 * written as RFC 4180 CSV (quotes doubled, quoted fields may hold commas
 * and newlines). Sorting is stable, so a study's rows keep report.csv's
 * order (head to tail). When no file was read (no study finished), the
 * header is still the full one: study_id + this version's report.csv
 * columns (sp_report_csv_columns), so a cohort.csv always has the same
 * columns. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "core/sp_log.h"
#include "report/sp_report.h"

typedef struct row {
    char id[SP_BATCH_ID_LEN + 1];
    size_t seq;   /* insertion order, for a stable sort */
    int src;      /* which file it came from (merge: the first file with a study wins) */
    char **cells; /* ncol cells, owned */
} row;

struct sp_cohort {
    int ncol;
    char **cols;  /* column names without study_id, owned */
    row *rows;
    size_t nrows, cap;
    int nfiles;
};

/* ---- CSV reading -------------------------------------------------------- */

typedef struct fields {
    char **v;
    int n, cap;
} fields;

static void fields_clear(fields *f)
{
    for (int i = 0; i < f->n; i++) free(f->v[i]);
    f->n = 0;
}

static int fields_push(fields *f, const char *s, size_t len)
{
    if (f->n == f->cap) {
        int cap = f->cap ? f->cap * 2 : 64;
        char **nv = realloc(f->v, (size_t)cap * sizeof *nv);
        if (!nv) return -1;
        f->v = nv, f->cap = cap;
    }
    if (!(f->v[f->n] = malloc(len + 1))) return -1;
    memcpy(f->v[f->n], s, len);
    f->v[f->n][len] = '\0';
    f->n++;
    return 0;
}

/* Reads one CSV record into out. Returns 1 on a record, 0 at EOF, -1 on OOM. */
static int read_record(FILE *in, fields *out)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    bool quoted = false, any = false;
    int c, rc = 1;
    fields_clear(out);
    while ((c = fgetc(in)) != EOF) {
        any = true;
        if (quoted) {
            if (c == '"') {
                int d = fgetc(in);
                if (d == '"') goto add;
                quoted = false;
                c = d;
                if (c == EOF) break;
            } else {
                goto add;
            }
        }
        if (c == '"' && len == 0) {
            quoted = true;
            continue;
        }
        if (c == '\r') continue;
        if (c == ',' || c == '\n') {
            if (fields_push(out, buf ? buf : "", len) != 0) rc = -1;
            len = 0;
            if (c == '\n' || rc < 0) break;
            continue;
        }
    add:
        if (len + 1 >= cap) {
            cap = cap ? cap * 2 : 128;
            char *nb = realloc(buf, cap);
            if (!nb) {
                rc = -1;
                break;
            }
            buf = nb;
        }
        buf[len++] = (char)c;
    }
    if (rc > 0 && c == EOF) {
        if (!any) rc = 0;
        else if (fields_push(out, buf ? buf : "", len) != 0) rc = -1;
    }
    free(buf);
    return rc;
}

/* ---- The table ------------------------------------------------------------ */

sp_cohort *sp_cohort_new(void) { return calloc(1, sizeof(sp_cohort)); }

void sp_cohort_free(sp_cohort *c)
{
    if (!c) return;
    for (size_t r = 0; r < c->nrows; r++) {
        for (int k = 0; k < c->ncol; k++) free(c->rows[r].cells[k]);
        free(c->rows[r].cells);
    }
    for (int k = 0; k < c->ncol; k++) free(c->cols[k]);
    free(c->cols);
    free(c->rows);
    free(c);
}

/* Sets the columns from a header (skipping `skip` leading names) or builds
 * the map of this header's fields onto the existing columns (-1 = dropped). */
static int map_header(sp_cohort *c, const fields *h, int skip, int *map, const char *path)
{
    if (c->ncol == 0) { /* the first file with columns fixes them */
        free(c->cols);
        c->cols = calloc((size_t)h->n + 1, sizeof *c->cols);
        if (!c->cols) return -1;
        for (int k = skip; k < h->n; k++)
            if (!(c->cols[c->ncol++] = strdup(h->v[k]))) return -1;
    }
    for (int k = skip; k < h->n; k++) {
        map[k] = -1;
        for (int j = 0; j < c->ncol; j++)
            if (!strcmp(c->cols[j], h->v[k])) map[k] = j;
        if (map[k] < 0) sp_log(SP_LOG_WARN, "%s: column '%s' is not in the cohort's columns; dropped", path, h->v[k]);
    }
    return 0;
}

static int add_row(sp_cohort *c, const char *id, const fields *f, int skip, const int *map)
{
    if (c->nrows == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        row *nv = realloc(c->rows, cap * sizeof *nv);
        if (!nv) return -1;
        c->rows = nv, c->cap = cap;
    }
    row *r = &c->rows[c->nrows];
    snprintf(r->id, sizeof r->id, "%s", id);
    r->seq = c->nrows;
    r->src = c->nfiles;
    r->cells = calloc((size_t)c->ncol + 1, sizeof *r->cells);
    if (!r->cells) return -1;
    c->nrows++;
    for (int k = skip; k < f->n; k++)
        if (map[k] >= 0 && !r->cells[map[k]] && !(r->cells[map[k]] = strdup(f->v[k]))) return -1;
    for (int j = 0; j < c->ncol; j++)
        if (!r->cells[j] && !(r->cells[j] = strdup(""))) return -1;
    return 0;
}

/* Reads a CSV whose first `skip` columns are not data; id NULL = take the id
 * from column 0 (cohort.csv) and skip studies already present. */
static sp_status add_file(sp_cohort *c, const char *id, int skip, const char *path, sp_err *err)
{
    fields h = {0}, f = {0};
    int *map = NULL, rc;
    sp_status st = SP_OK;
    FILE *in = fopen(path, "rb");
    if (!in) return sp_fail(err, SP_EIO, "%s: cannot read (%s)", path, strerror(errno));
    rc = read_record(in, &h);
    if (rc == 0 || (rc > 0 && (h.n < skip || (skip && strcmp(h.v[0], "study_id")))))
        st = sp_fail(err, SP_EIO, "%s: no CSV header%s", path, skip ? " starting with study_id" : "");
    else if (rc < 0 || !(map = calloc((size_t)h.n, sizeof *map)) || map_header(c, &h, skip, map, path) != 0)
        st = SP_ENOMEM;
    while (st == SP_OK && (rc = read_record(in, &f)) > 0) {
        const char *rid = id ? id : f.v[0];
        if (f.n == 1 && !f.v[0][0]) continue; /* blank line */
        if (add_row(c, rid, &f, skip, map) != 0) st = SP_ENOMEM;
    }
    if (rc < 0) st = SP_ENOMEM;
    if (st == SP_ENOMEM) sp_fail(err, st, "out of memory reading %s", path);
    fclose(in);
    c->nfiles++;
    fields_clear(&h), fields_clear(&f);
    free(h.v), free(f.v), free(map);
    return st;
}

sp_status sp_cohort_add_report(sp_cohort *c, const char *id, const char *csv_path, sp_err *err)
{
    return add_file(c, id, 0, csv_path, err);
}

sp_status sp_cohort_add_cohort(sp_cohort *c, const char *csv_path, sp_err *err)
{
    return add_file(c, NULL, 1, csv_path, err);
}

/* ---- Writing -------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t len)
{
    if (b->oom) return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + len + 1) cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np, b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

static void put_field(sbuf *b, const char *s, bool last)
{
    if (strpbrk(s, ",\"\n\r")) {
        put(b, "\"", 1);
        for (const char *q = s; *q; q++) {
            if (*q == '"') put(b, "\"", 1); /* a quote is doubled */
            put(b, q, 1);
        }
        put(b, "\"", 1);
    } else {
        put(b, s, strlen(s));
    }
    put(b, last ? "\n" : ",", 1);
}

static int cmp_row(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* No file gave columns (no study finished): this version's report.csv columns. */
static int default_columns(sp_cohort *c)
{
    int n;
    const char *const *names = sp_report_csv_columns(&n);
    free(c->cols);
    if (!(c->cols = calloc((size_t)n + 1, sizeof *c->cols))) return -1;
    for (; c->ncol < n; c->ncol++)
        if (!(c->cols[c->ncol] = strdup(names[c->ncol]))) return -1;
    return 0;
}

sp_status sp_cohort_write(sp_cohort *c, const char *path, sp_err *err)
{
    sbuf b = {0};
    sp_status st;
    int src = -1;
    if (c->ncol == 0 && c->nrows == 0 && default_columns(c) != 0)
        return sp_fail(err, SP_ENOMEM, "out of memory writing %s", path);
    put_field(&b, "study_id", c->ncol == 0);
    for (int k = 0; k < c->ncol; k++) put_field(&b, c->cols[k], k == c->ncol - 1);
    if (c->nrows) qsort(c->rows, c->nrows, sizeof *c->rows, cmp_row);
    for (size_t r = 0; r < c->nrows; r++) {
        /* a study's rows come from the first file that had it (dedupe on merge) */
        if (r == 0 || strcmp(c->rows[r].id, c->rows[r - 1].id)) src = c->rows[r].src;
        if (c->rows[r].src != src) continue;
        put_field(&b, c->rows[r].id, c->ncol == 0);
        for (int k = 0; k < c->ncol; k++) put_field(&b, c->rows[r].cells[k], k == c->ncol - 1);
    }
    if (b.oom) st = sp_fail(err, SP_ENOMEM, "out of memory writing %s", path);
    else st = sp_batch_write_atomic(path, b.p ? b.p : "", b.n, err);
    free(b.p);
    return st;
}
