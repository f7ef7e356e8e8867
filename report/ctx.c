/* ctx.c - the report context: borrowed stage results plus the lesion display
 * mask, and the wording helpers shared by the HTML, CSV and SR writers.
 *
 * DESIGN: the lesion mask is score/'s own (sp_score_result.lesion_mask, the
 * voxels it measured), borrowed. Only a result without one (built by hand)
 * gets a mask re-derived with score's thresholds: voxels of a vertebra with
 * a lesion whose HU is below the lytic (above the blastic) threshold and
 * whose six neighbours are all in that vertebra. Parallel over slices; each
 * iteration writes its own slice. */
#define SP_REPORT_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_omp.h"

bool sp_report_has_lesion(const sp_score_vertebra *v)
{
    return v->les.assessed && v->les.character != SP_CHAR_NONE && v->les.character != SP_CHAR_NOT_ASSESSED;
}

const char *sp_report_char_name(sp_lesion_char c)
{
    switch (c) {
    case SP_CHAR_LYTIC: return "lytic";
    case SP_CHAR_BLASTIC: return "blastic";
    case SP_CHAR_MIXED: return "mixed";
    case SP_CHAR_NOT_ASSESSED: return "not assessed";
    default: return "none";
    }
}

static size_t zone_runs(unsigned zones, int from, int to, char *buf, size_t n, size_t off)
{
    int z = from;
    bool first = true;
    while (z <= to) {
        if (!(zones & (1u << (z - 1)))) {
            z++;
            continue;
        }
        int e = z;
        while (e + 1 <= to && (zones & (1u << e))) e++;
        off += (size_t)snprintf(buf + off, off < n ? n - off : 0, "%s%d", first ? "" : ",", z);
        if (e > z) off += (size_t)snprintf(buf + off, off < n ? n - off : 0, "-%d", e);
        first = false;
        z = e + 1;
    }
    return off;
}

const char *sp_report_zones_words(unsigned zones, char *buf, size_t n)
{
    size_t off = 0;
    buf[0] = '\0';
    if (!zones) {
        snprintf(buf, n, "none");
        return buf;
    }
    if (zones & 0x03Fu) {
        off += (size_t)snprintf(buf + off, n - off, "left zone%s ", (zones & 0x03Fu) & ((zones & 0x03Fu) - 1) ? "s" : "");
        off = zone_runs(zones, 1, 6, buf, n, off);
    }
    if (zones & 0xFC0u && off < n) {
        off += (size_t)snprintf(buf + off, n - off, "%sright zone%s ", off ? "; " : "",
                                (zones & 0xFC0u) & ((zones & 0xFC0u) - 1) ? "s" : "");
        zone_runs(zones, 7, 12, buf, n, off);
    }
    return buf;
}

const char *sp_report_layers_words(unsigned layers, char *buf, size_t n)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int l = 0; l < 5 && off < n; l++)
        if (layers & (1u << l)) off += (size_t)snprintf(buf + off, n - off, "%s%c", off ? ", " : "", sp_wbb_layer_letter(l));
    if (!off) snprintf(buf, n, "none");
    return buf;
}

bool sp_report_identified(const sp_report_ctx *ctx) { return ctx->refs && !ctx->opts.deidentify; }

sp_status sp_report_ctx_init(sp_report_ctx *ctx, const sp_volume *ct, const sp_seg_result *seg,
                             const sp_score_result *res, const sp_report_input *in,
                             const sp_series_refs *refs, const sp_report_opts *opts)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->ct = ct, ctx->seg = seg, ctx->res = res, ctx->in = in, ctx->refs = refs;
    if (opts) ctx->opts = *opts;
    if (res->lesion_mask && res->lesion_mask->nx == ct->nx && res->lesion_mask->ny == ct->ny &&
        res->lesion_mask->nz == ct->nz) {
        ctx->lesion = res->lesion_mask;
        ctx->lesion_borrowed = true;
        return SP_OK;
    }
    ctx->lesion = sp_vol_new_like(ct, SP_U8);
    if (!ctx->lesion) return SP_ENOMEM;
    /* per VerSe label: 1 looks for lytic, 2 blastic, 3 both */
    uint8_t want[256] = {0};
    for (int k = 0; k < res->nvert; k++) {
        const sp_score_vertebra *v = &res->v[k];
        if (!sp_report_has_lesion(v) || v->label < 0 || v->label > 255) continue;
        sp_lesion_char c = v->les.character;
        want[v->label] = c == SP_CHAR_LYTIC ? 1 : c == SP_CHAR_BLASTIC ? 2 : 3;
    }
    if (!isfinite(res->lytic_thr) || !isfinite(res->blastic_thr)) return SP_OK;
    const int nx = ct->nx, ny = ct->ny, nz = ct->nz;
    const int16_t *hu = ct->data;
    const uint8_t *lab = seg->vertebrae->data;
    uint8_t *out = ctx->lesion->data;
    const double lo = res->lytic_thr, hi = res->blastic_thr;
    const size_t sx = 1, sy = (size_t)nx, sz = (size_t)nx * (size_t)ny;
    /* each iteration writes slice z of out */
    SP_OMP(parallel for schedule(dynamic, 4) default(none) shared(hu, lab, out, want) firstprivate(nx, ny, nz, lo, hi, sx, sy, sz))
    for (int z = 1; z < nz - 1; z++)
        for (int y = 1; y < ny - 1; y++)
            for (int x = 1; x < nx - 1; x++) {
                size_t i = (size_t)z * sz + (size_t)y * sy + (size_t)x * sx;
                uint8_t l = lab[i];
                if (!l || !want[l]) continue;
                if (lab[i - sx] != l || lab[i + sx] != l || lab[i - sy] != l || lab[i + sy] != l || lab[i - sz] != l ||
                    lab[i + sz] != l)
                    continue;
                if ((want[l] & 1) && hu[i] < lo) out[i] = 1;
                else if ((want[l] & 2) && hu[i] > hi) out[i] = 2;
            }
    return SP_OK;
}

void sp_report_ctx_clear(sp_report_ctx *ctx)
{
    if (!ctx) return;
    if (!ctx->lesion_borrowed) sp_vol_free(ctx->lesion);
    ctx->lesion = NULL;
    ctx->lesion_borrowed = false;
}
