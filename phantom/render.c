/* render.c - samples the scene over the scan grid: HU with partial volume
 * and noise, the three label maps, and per-vertebra voxel statistics.
 *
 * DESIGN: each slice is first sampled at voxel centres on one plane (thin
 * slices) or on an odd number of sub-planes across the slice thickness
 * (thick slices). A voxel whose tissue differs from a face neighbour's (or
 * between its sub-planes) straddles a surface and is supersampled 2x2 in
 * plane x nzs through the thickness; other voxels take the centre value.
 * Labels always come from the voxel centre. Noise is a hash of (seed, voxel
 * index), so the output does not depend on the thread count.
 * OpenMP: slices are split into one contiguous block per thread (FFmpeg's
 * jobnr/nb_jobs), so each thread can keep its neighbour planes rolling;
 * per-thread integer statistics are merged afterwards (exact, order-free). */
#define SP_PHANTOM_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_omp.h"

#define PH_MAX_NZS 8

typedef struct scratch {
    ph_sample *maps;   /* nmaps planes of nxy samples */
    int *cand, *rowcand;
    ph_plane ss[PH_MAX_NZS];  /* supersampling sub-planes of the current slice */
    ph_plane ssrow[PH_MAX_NZS]; /* ... restricted to the current row */
    int *sscand;       /* PH_MAX_NZS * 2 * (nprim + 1) ints */
    ph_stats st;
} scratch;

typedef struct rctx {
    const ph_scene *sc;
    int nx, ny, nz, mz, nzs, nmaps;
    size_t nxy;
    double px, py, thick;
    int16_t *ct;
    uint8_t *vert, *parts, *les;
    int lut[256];
} rctx;

/* Samples every voxel centre of the plane at height zc into out. */
static void sample_plane(const rctx *c, double zc, ph_sample *out, scratch *s)
{
    const ph_scene *sc = c->sc;
    ph_plane pl, row;
    pl.cand = s->cand;
    ph_plane_setup(sc, zc, &pl);
    row = pl;
    row.cand = s->rowcand;
    for (int j = 0; j < c->ny; j++) {
        double p[3] = {0, sc->origin[1] + j * c->py, zc};
        row.ncand = 0;
        for (int k = 0; k < pl.ncand; k++) {
            const double *bb = sc->prim[pl.cand[k]].bbox;
            if (p[1] >= bb[2] && p[1] <= bb[3]) row.cand[row.ncand++] = pl.cand[k];
        }
        for (int i = 0; i < c->nx; i++) {
            p[0] = sc->origin[0] + i * c->px;
            ph_sample_point(sc, &row, p, &out[(size_t)j * c->nx + i]);
        }
    }
}

/* Sets up the supersampling sub-planes of slice centre zc. */
static void ss_planes(const rctx *c, double zc, scratch *s)
{
    size_t n = (size_t)c->sc->nprim + 1;
    for (int k = 0; k < c->nzs; k++) {
        s->ss[k].cand = s->sscand + (size_t)k * 2 * n;
        ph_plane_setup(c->sc, zc + c->thick * ((k + 0.5) / c->nzs - 0.5), &s->ss[k]);
    }
}

/* Restricts the sub-planes' candidates to primitives that reach row j. */
static void ss_rows(const rctx *c, int j, scratch *s)
{
    size_t n = (size_t)c->sc->nprim + 1;
    double y0 = c->sc->origin[1] + (j - 0.5) * c->py, y1 = y0 + c->py;
    for (int k = 0; k < c->nzs; k++) {
        ph_plane *r = &s->ssrow[k];
        *r = s->ss[k];
        r->cand = s->sscand + (size_t)k * 2 * n + n;
        r->ncand = 0;
        for (int m = 0; m < s->ss[k].ncand; m++) {
            const double *bb = c->sc->prim[s->ss[k].cand[m]].bbox;
            if (y1 >= bb[2] && y0 <= bb[3]) r->cand[r->ncand++] = s->ss[k].cand[m];
        }
    }
}

/* Mean HU of a 2 x 2 x nzs supersample of voxel (i, j) (ss_rows done). */
static double supersample(const rctx *c, int i, int j, scratch *s)
{
    const ph_scene *sc = c->sc;
    double acc = 0;
    ph_sample o;
    for (int k = 0; k < c->nzs; k++) {
        const ph_plane *pl = &s->ssrow[k];
        for (int b = 0; b < 2; b++)
            for (int a = 0; a < 2; a++) {
                double p[3] = {sc->origin[0] + (i + (a ? 0.25 : -0.25)) * c->px,
                               sc->origin[1] + (j + (b ? 0.25 : -0.25)) * c->py, pl->z};
                ph_sample_point(sc, pl, p, &o);
                acc += o.hu;
            }
    }
    return acc / (4.0 * c->nzs);
}

static double gauss(uint64_t seed, size_t idx)
{
    uint64_t h = ph_hash64(seed ^ 0xC0FFEE1234567ull, (uint64_t)idx);
    double u = 0;
    for (int k = 0; k < 4; k++) u += (double)((h >> (16 * k)) & 0xFFFF) / 65536.0;
    return (u - 2.0) * 1.7320508075688772;
}

static void count(const rctx *c, const ph_sample *o, int i, int j, int z, ph_stats *st)
{
    int v = o->vert ? c->lut[o->vert] : -1;
    if (v >= 0) {
        st->nvox[v]++;
        st->sum_ijk[v][0] += i;
        st->sum_ijk[v][1] += j;
        st->sum_ijk[v][2] += z;
        st->part[v][o->part]++;
    }
    if (o->lesion && o->owner >= 0) {
        int w = o->owner;
        st->les[w][o->lesion]++;
        st->wbb[w][o->zone][o->layer]++;
        if (v == w) st->part_les[w][o->part]++;
    }
}

/* Renders slice z given its sub-plane maps (and neighbour centre maps when
 * mz == 1: prev/next may be NULL at the volume ends). */
static void render_slice(const rctx *c, int z, ph_sample **sub, const ph_sample *prev,
                         const ph_sample *next, scratch *s)
{
    const sp_phantom_spec *sp = c->sc->spec;
    const ph_sample *ctr = sub[c->mz / 2];
    double zc = c->sc->origin[2] + z * c->sc->spacing[2];
    size_t base = (size_t)z * c->nxy;
    if (sp->supersample) ss_planes(c, zc, s);
    for (int j = 0; j < c->ny; j++) {
        int rows_done = 0;
        for (int i = 0; i < c->nx; i++) {
            size_t k = (size_t)j * c->nx + i;
            const ph_sample *o = &ctr[k];
            int t = o->tissue, edge = 0;
            double hu = 0;
            for (int m = 0; m < c->mz; m++) {
                const ph_sample *q = sub[m];
                hu += q[k].hu;
                if (q[k].tissue != t) edge = 1;
                if ((i > 0 && q[k - 1].tissue != t) || (i + 1 < c->nx && q[k + 1].tissue != t) ||
                    (j > 0 && q[k - c->nx].tissue != t) ||
                    (j + 1 < c->ny && q[k + c->nx].tissue != t))
                    edge = 1;
            }
            if ((prev && prev[k].tissue != t) || (next && next[k].tissue != t)) edge = 1;
            hu /= c->mz;
            if (edge && sp->supersample) {
                if (!rows_done) ss_rows(c, j, s);
                rows_done = 1;
                hu = supersample(c, i, j, s);
            }
            if (sp->noise_hu > 0) hu += sp->noise_hu * gauss(sp->seed, base + k);
            hu = floor(hu + 0.5);
            c->ct[base + k] = (int16_t)(hu < -1024 ? -1024 : hu > 3071 ? 3071 : hu);
            c->vert[base + k] = o->vert;
            c->parts[base + k] = o->part;
            c->les[base + k] = o->lesion;
            count(c, o, i, j, z, &s->st);
        }
    }
}

/* One thread's block of slices [z0, z1). */
static void render_block(const rctx *c, int z0, int z1, scratch *s)
{
    ph_sample *sub[16], *prev = NULL, *cur = NULL, *next = NULL;
    for (int m = 0; m < c->nmaps; m++) sub[m] = s->maps + (size_t)m * c->nxy;
    if (c->mz == 1) {
        prev = sub[0];
        cur = sub[1];
        next = sub[2];
        if (z0 > 0 && z0 < z1) sample_plane(c, c->sc->origin[2] + (z0 - 1) * c->sc->spacing[2], prev, s);
        if (z0 < z1) sample_plane(c, c->sc->origin[2] + z0 * c->sc->spacing[2], cur, s);
    }
    for (int z = z0; z < z1; z++) {
        double zc = c->sc->origin[2] + z * c->sc->spacing[2];
        if (c->mz == 1) {
            ph_sample *t, *one[1];
            if (z + 1 < c->nz) sample_plane(c, zc + c->sc->spacing[2], next, s);
            one[0] = cur;
            render_slice(c, z, one, z > 0 ? prev : NULL, z + 1 < c->nz ? next : NULL, s);
            t = prev;
            prev = cur;
            cur = next;
            next = t;
        } else {
            for (int m = 0; m < c->mz; m++)
                sample_plane(c, zc + c->thick * ((m + 0.5) / c->mz - 0.5), sub[m], s);
            render_slice(c, z, sub, NULL, NULL, s);
        }
    }
}

sp_status ph_render(const ph_scene *sc, sp_volume *ct, sp_volume *vert, sp_volume *parts,
                    sp_volume *les, ph_stats *st, sp_err *err)
{
    rctx c;
    int nthr = sp_omp_max_threads(), fail = 0;
    scratch *s;
    size_t nvox;
    memset(&c, 0, sizeof c);
    c.sc = sc;
    c.nx = sc->nx;
    c.ny = sc->ny;
    c.nz = sc->nz;
    c.nxy = (size_t)c.nx * c.ny;
    c.px = sc->spacing[0];
    c.py = sc->spacing[1];
    c.thick = sc->thickness;
    c.mz = c.thick > 1.5 * c.px ? 2 * (int)floor(c.thick / (2 * c.px)) + 1 : 1;
    if (c.mz > 15) c.mz = 15;
    c.nmaps = c.mz == 1 ? 3 : c.mz;
    c.nzs = (int)lround(2 * c.thick / c.px);
    c.nzs = c.nzs < 2 ? 2 : c.nzs > PH_MAX_NZS ? PH_MAX_NZS : c.nzs;
    c.ct = ct->data;
    c.vert = vert->data;
    c.parts = parts->data;
    c.les = les->data;
    for (int k = 0; k < 256; k++) c.lut[k] = -1;
    for (int i = 0; i < sc->nvert; i++) c.lut[sc->v[i].label] = i;
    nvox = c.nxy * (size_t)c.nz;
    if (nthr < 1) nthr = 1;
    s = calloc((size_t)nthr, sizeof *s);
    if (!s) return sp_fail(err, SP_ENOMEM, "out of memory");
    for (int t = 0; t < nthr; t++) {
        s[t].maps = malloc(sizeof(ph_sample) * c.nxy * (size_t)c.nmaps);
        s[t].cand = malloc(sizeof(int) * (size_t)(sc->nprim + 1));
        s[t].rowcand = malloc(sizeof(int) * (size_t)(sc->nprim + 1));
        s[t].sscand = malloc(sizeof(int) * (size_t)(sc->nprim + 1) * 2 * PH_MAX_NZS);
        if (!s[t].maps || !s[t].cand || !s[t].rowcand || !s[t].sscand) fail = 1;
    }
    if (!fail) {
        /* omp: thread t writes slices [nz*t/n, nz*(t+1)/n) of every output
         * volume and only its own scratch s[t]; the scene is read-only. */
        SP_OMP(parallel default(none) shared(c, s) firstprivate(nthr) if(nvox > SP_OMP_MIN_VOXELS))
        {
            int t = sp_omp_thread_num(), n = 1;
#ifdef _OPENMP
            n = omp_get_num_threads();
#endif
            if (n > nthr) n = nthr;
            if (t < n) {
                int z0 = (int)((int64_t)c.nz * t / n), z1 = (int)((int64_t)c.nz * (t + 1) / n);
                render_block(&c, z0, z1, &s[t]);
            }
        }
        /* merge per-thread integer statistics (exact in any order) */
        memset(st, 0, sizeof *st);
        for (int t = 0; t < nthr; t++) {
            int64_t *a = (int64_t *)st, *b = (int64_t *)&s[t].st;
            for (size_t k = 0; k < sizeof *st / sizeof(int64_t); k++) a[k] += b[k];
        }
    }
    for (int t = 0; t < nthr; t++) {
        free(s[t].maps);
        free(s[t].cand);
        free(s[t].rowcand);
        free(s[t].sscand);
    }
    free(s);
    (void)nvox;
    return fail ? sp_fail(err, SP_ENOMEM, "out of memory") : SP_OK;
}
