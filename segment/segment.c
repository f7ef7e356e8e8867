/* segment.c - sp_seg_run(): the segmentation stages in order.
 *
 * canonical frame -> work grid -> centreline -> discs -> levels -> anchors
 * and names -> instances (native grid) -> parts -> back to the input grid. */
#define SP_SEGMENT_INTERNAL
#include "internal.h"
#include "itk_shim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_log.h"
#include "core/sp_omp.h"

/* Sample index nearest to arc length s. */
static int sample_at(const seg_line *L, double s)
{
    int i = 0;
    while (i + 1 < L->n && L->s[i + 1] <= s) i++;
    if (i + 1 < L->n && s - L->s[i] > L->s[i + 1] - s) i++;
    return i;
}

/* Levels between consecutive discs plus the open ends (caudal first).
 * Where the column runs out of the scan (cut_lo / cut_hi), the open end is
 * a vertebra the scan cut, kept however thin (down to 2 mm) so that it is
 * reported as partial rather than silently missing; elsewhere an open end
 * under 6 mm is the line running past the last vertebra and is dropped. */
static int make_levels(const seg_line *L, const double *disc, const bool *inferred, int nd, bool cut_lo, bool cut_hi,
                       seg_level *lv)
{
    double bounds[SP_SEG_MAX_VERT + 2];
    bool binf[SP_SEG_MAX_VERT + 2] = {false};
    int nb = 0, nlv = 0;
    bounds[nb++] = 0;
    for (int k = 0; k < nd && nb < SP_SEG_MAX_VERT; k++) binf[nb] = inferred[k], bounds[nb++] = disc[k];
    bounds[nb++] = L->s[L->n - 1];
    for (int k = 0; k + 1 < nb && nlv < SP_SEG_MAX_VERT; k++) {
        bool open_lo = k == 0, open_hi = k + 2 == nb;
        double len = bounds[k + 1] - bounds[k];
        double min_len = (open_lo && cut_lo) || (open_hi && cut_hi) ? 2.0 : 6.0;
        if ((open_lo || open_hi) && len < min_len) continue;
        memset(&lv[nlv], 0, sizeof lv[nlv]);
        lv[nlv].s_lo = bounds[k];
        lv[nlv].s_hi = bounds[k + 1];
        lv[nlv].lo = sample_at(L, bounds[k]);
        lv[nlv].hi = sample_at(L, bounds[k + 1]);
        lv[nlv].open_lo = open_lo;
        lv[nlv].open_hi = open_hi;
        lv[nlv].partial = (open_lo && cut_lo) || (open_hi && cut_hi);
        lv[nlv].inferred = binf[k] || binf[k + 1];
        nlv++;
    }
    return nlv;
}

/* A fragment of the vertebra beyond a scan edge (instances.c): a level of
 * its own next to the outermost one, named by counting on from it, partial. */
static void edge_level(const seg_canon *c, const uint8_t *lab, uint8_t mark, const sp_seg_vertebra *nb, bool above,
                       sp_seg_vertebra *v)
{
    double sum[3] = {0, 0, 0}, n = 0;
    size_t nxy = (size_t)c->n[0] * c->n[1];
    for (int z = 0; z < c->n[2]; z++)
        for (int y = 0; y < c->n[1]; y++)
            for (int x = 0; x < c->n[0]; x++)
                if (lab[z * nxy + (size_t)y * c->n[0] + x] == mark)
                    sum[0] += x * c->spacing[0], sum[1] += y * c->spacing[1], sum[2] += z * c->spacing[2], n++;
    *v = *nb;
    v->label = above ? seg_label_up(nb->label) : seg_label_down(nb->label);
    sp_seg_level_name(v->label, v->name);
    for (int a = 0; a < 3; a++) v->body_centre[a] = n > 0 ? sum[a] / n : nb->body_centre[a];
    snprintf(v->anchor, sizeof v->anchor, "counted on from %s: a fragment at the scan edge", nb->name);
    v->partial = true;
    v->confidence = nb->confidence * 0.8;
}

static int add_edge_levels(const seg_canon *c, uint8_t *lab, seg_level *lv, int nlv, bool got_lo, bool got_hi,
                           sp_seg_result *r)
{
    size_t nvox = (size_t)c->n[0] * c->n[1] * c->n[2];
    if (got_hi && nlv < SP_SEG_MAX_VERT) {
        edge_level(c, lab, (uint8_t)(nlv + 1), &r->vert[nlv - 1], true, &r->vert[nlv]);
        lv[nlv] = lv[nlv - 1];
        lv[nlv].label = r->vert[nlv].label;
        nlv++;
    } else if (got_hi) {
        for (size_t i = 0; i < nvox; i++) lab[i] = lab[i] == nlv + 1 ? 0 : lab[i];
    }
    if (got_lo && nlv < SP_SEG_MAX_VERT) {
        memmove(&r->vert[1], &r->vert[0], (size_t)nlv * sizeof r->vert[0]);
        memmove(&lv[1], &lv[0], (size_t)nlv * sizeof lv[0]);
        edge_level(c, lab, SEG_EDGE_LO, &r->vert[1], false, &r->vert[0]);
        lv[0].label = r->vert[0].label;
        for (size_t i = 0; i < nvox; i++) lab[i] = lab[i] == SEG_EDGE_LO ? 1 : lab[i] ? (uint8_t)(lab[i] + 1) : 0;
        nlv++;
    } else if (got_lo) {
        for (size_t i = 0; i < nvox; i++) lab[i] = lab[i] == SEG_EDGE_LO ? 0 : lab[i];
    }
    for (int k = 0; k < nlv; k++)
        if (r->vert[k].partial && strstr(r->vert[k].anchor, "fragment"))
            snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags),
                     "%s: only a fragment in view (not measured); ", r->vert[k].name);
    return nlv;
}

static sp_status fail_with(sp_err *err, sp_status st, const char *what)
{
    return st == SP_ENOMEM ? sp_fail(err, st, "out of memory (%s)", what) : st;
}

sp_status sp_seg_run(const sp_volume *ct, const sp_seg_opts *opts, sp_seg_result **out, sp_err *err)
{
    seg_canon c;
    seg_work w;
    seg_line *L = NULL;
    seg_level lv[SP_SEG_MAX_VERT];
    double disc[SP_SEG_MAX_VERT], t0 = sp_now();
    bool inferred[SP_SEG_MAX_VERT];
    int nd, nlv;
    uint8_t *lab = NULL, *parts = NULL;
    sp_seg_result *r = NULL;
    bool verbose = opts && opts->verbose;
    sp_status st;
    *out = NULL;
    memset(&w, 0, sizeof w);
    if (!ct || ct->dtype != SP_I16) return sp_fail(err, SP_EINVAL, "segmentation needs an int16 CT volume in HU");
    if (opts && opts->threads > 0) sp_omp_set_threads(opts->threads);
    /* ITK's pool gets as many threads as OpenMP (also when OMP_NUM_THREADS
     * set them, as batch does); no ITK filter runs in a parallel region. */
    sp_itk_init(sp_omp_max_threads());
    st = seg_canon_make(ct, &c);
    if (st != SP_OK) return fail_with(err, st, "canonical copy");
    st = seg_work_make(&c, &w);
    if (st != SP_OK) {
        st = fail_with(err, st, "work grid");
        goto done;
    }
    L = calloc(1, sizeof *L);
    r = calloc(1, sizeof *r);
    if (!L || !r) {
        st = sp_fail(err, SP_ENOMEM, "out of memory");
        goto done;
    }
    sp_log(SP_LOG_DEBUG, "segment: canonical + work grid %.2f s", sp_now() - t0);
    st = seg_find_centreline(&w, L, err);
    sp_log(SP_LOG_DEBUG, "segment: centreline done at %.2f s", sp_now() - t0);
    if (st != SP_OK) goto done;
    nd = seg_find_discs(&w, L, disc, inferred, SP_SEG_MAX_VERT - 2, verbose);
    /* Cropped: the column runs into the first or last slice of the scan. */
    bool cut_lo = L->z0 <= 1, cut_hi = L->z0 + L->n - 1 >= w.n[2] - 2;
    nlv = make_levels(L, disc, inferred, nd, cut_lo, cut_hi, lv);
    if (nlv < 1) {
        st = sp_fail(err, SP_EUNSUPPORTED, "no vertebra found along the spine column");
        goto done;
    }
    sp_log(SP_LOG_DEBUG, "segment: discs done at %.2f s", sp_now() - t0);
    seg_detect_anchors(&w, L, lv, nlv, verbose);
    seg_name_levels(lv, nlv, r);
    if (cut_lo && !lv[0].sacrum)
        snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags), "cropped below (column cut by the scan); ");
    if (cut_hi)
        snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags), "cropped above (column cut by the scan); ");
    sp_log(SP_LOG_DEBUG, "segment: anchors and names done at %.2f s", sp_now() - t0);
    for (int k = 0; k < nlv; k++) {
        double p[3], t[3];
        seg_line_at_s(L, 0.5 * (lv[k].s_lo + lv[k].s_hi), p, t);
        for (int a = 0; a < 3; a++) {
            r->vert[k].body_centre[a] = (p[a] * w.f[a] + (w.f[a] - 1) / 2.0) * c.spacing[a];
            r->vert[k].axis_si[a] = t[a];
        }
        r->vert[k].partial = lv[k].partial && !lv[k].sacrum;
        if (r->vert[k].partial)
            snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags),
                     "%s partly outside the scan (not measured); ", r->vert[k].name);
        r->vert[k].disc_below_mm = lv[k].s_lo;
        r->vert[k].disc_above_mm = lv[k].s_hi;
    }
    size_t nvox = (size_t)c.n[0] * c.n[1] * c.n[2];
    lab = malloc(nvox);
    parts = malloc(nvox);
    if (!lab || !parts) {
        st = sp_fail(err, SP_ENOMEM, "out of memory for label maps");
        goto done;
    }
    bool got_lo = false, got_hi = false;
    st = seg_label_instances(&c, &w, L, lv, nlv, cut_lo && !lv[0].sacrum, cut_hi, &got_lo, &got_hi, lab);
    sp_log(SP_LOG_DEBUG, "segment: instance growth done at %.2f s", sp_now() - t0);
    if (st == SP_OK) seg_drop_vessels(&c, lab, nlv, &got_lo, &got_hi);
    if (st == SP_OK && (got_lo || got_hi)) nlv = add_edge_levels(&c, lab, lv, nlv, got_lo, got_hi, r);
    sp_log(SP_LOG_DEBUG, "segment: instances done at %.2f s", sp_now() - t0);
    if (st == SP_OK) st = seg_label_parts(&c, lab, nlv, true, parts, r->vert);
    sp_log(SP_LOG_DEBUG, "segment: parts done at %.2f s", sp_now() - t0);
    if (st == SP_OK) seg_peel_surface(&c, lab, parts);
    sp_log(SP_LOG_DEBUG, "segment: body surface done at %.2f s", sp_now() - t0);
    if (st != SP_OK) {
        st = fail_with(err, st, "labelling");
        goto done;
    }
    /* level index -> VerSe label, then back to the input grid */
    uint8_t lut[256] = {0};
    for (int k = 0; k < nlv; k++) lut[k + 1] = (uint8_t)lv[k].label;
    for (size_t i = 0; i < nvox; i++) lab[i] = lut[lab[i]];
    r->vertebrae = sp_vol_new_like(ct, SP_U8);
    r->parts = sp_vol_new_like(ct, SP_U8);
    if (!r->vertebrae || !r->parts) {
        st = sp_fail(err, SP_ENOMEM, "out of memory for label maps");
        goto done;
    }
    seg_canon_to_source(&c, lab, r->vertebrae);
    seg_canon_to_source(&c, parts, r->parts);
    /* report cranial to caudal */
    r->nvert = nlv;
    for (int k = 0; k < nlv / 2; k++) {
        sp_seg_vertebra t = r->vert[k];
        r->vert[k] = r->vert[nlv - 1 - k];
        r->vert[nlv - 1 - k] = t;
    }
    r->seconds = sp_now() - t0;
    *out = r;
    r = NULL;
done:
    seg_canon_free(&c);
    seg_work_free(&w);
    free(L);
    free(lab);
    free(parts);
    sp_seg_result_free(r);
    return st;
}

void sp_seg_result_free(sp_seg_result *r)
{
    if (!r) return;
    sp_vol_free(r->vertebrae);
    sp_vol_free(r->parts);
    free(r);
}
