/* series_resample.c - assemble sorted slices onto a regular orthogonal grid.
 *
 * DESIGN: used only for series whose decision says so (gantry tilt, uneven
 * spacing, filled gaps). The output axes are the row direction r, the stack
 * direction s (table motion, unit) and w = s x r, so a tilted acquisition
 * comes out as true axial slices. Each output voxel X is expressed in the
 * input's sheared basis [dx*r, dy*c, s] relative to the first slice; its
 * coordinate u along s falls between two input slices (their own u_k), and
 * the value is the linear blend of a bilinear sample in each. Because r is
 * perpendicular to s, u and the in-plane row coordinate are constant along
 * an output row, so the bracketing is found once per row. Voxels with no
 * data become the air value. Parallel over output slices; each iteration
 * writes only its own slice, so the result is identical at any thread count. */
#define SP_IO_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_geom.h"
#include "core/sp_omp.h"

typedef struct grid {
    double r[3], c[3], s[3], w[3];
    double dx, dy, dz;
    double inv[16];   /* LPS offset from slice 0 -> (a, b, u) in input basis */
    double origin[3]; /* output origin (LPS) */
    int nx, ny, nz;
} grid;

static void to_input(const grid *g, const double d[3], double out[3])
{
    for (int i = 0; i < 3; i++) out[i] = g->inv[i * 4] * d[0] + g->inv[i * 4 + 1] * d[1] + g->inv[i * 4 + 2] * d[2];
}

/* Bilinear sample of slice `sl` (nx*ny, float or int16) at (a, b); NAN outside. */
static double sample(const sp_volume *stack, int k, double a, double b)
{
    int nx = stack->nx, ny = stack->ny;
    int i0 = (int)floor(a), j0 = (int)floor(b);
    double fa = a - i0, fb = b - j0, v = 0;
    if (a < -0.5 || b < -0.5 || a > nx - 0.5 || b > ny - 0.5) return NAN;
    for (int dj = 0; dj < 2; dj++)
        for (int di = 0; di < 2; di++) {
            int ii = i0 + di, jj = j0 + dj;
            double wgt = (di ? fa : 1 - fa) * (dj ? fb : 1 - fb);
            if (ii < 0) ii = 0;
            if (jj < 0) jj = 0;
            if (ii >= nx) ii = nx - 1;
            if (jj >= ny) jj = ny - 1;
            size_t idx = ((size_t)k * (size_t)ny + (size_t)jj) * (size_t)nx + (size_t)ii;
            v += wgt * (stack->dtype == SP_I16 ? ((const int16_t *)stack->data)[idx]
                                               : ((const float *)stack->data)[idx]);
        }
    return v;
}

sp_status sp_io_assemble_grid(const sp_series *sr, const sp_volume *stack, double air, sp_volume **out)
{
    grid g;
    double basis[16] = {0}, *u_k, *a_k, *b_k;
    int n = sr->nslices;
    const double *o0 = sr->slice_ipp;
    sp_volume *v;
    *out = NULL;
    memset(&g, 0, sizeof g);
    memcpy(g.r, sr->iop, sizeof g.r);
    memcpy(g.c, sr->iop + 3, sizeof g.c);
    for (int i = 0; i < 3; i++) g.s[i] = sr->slice_ipp[3 * (n - 1) + i] - o0[i];
    sp_normalize3(g.s);
    sp_cross3(g.s, g.r, g.w);
    sp_normalize3(g.w);
    g.dx = sr->spacing[0];
    g.dy = sr->spacing[1];
    g.dz = sr->spacing[2];
    for (int i = 0; i < 3; i++) {
        basis[i * 4] = g.dx * g.r[i];
        basis[i * 4 + 1] = g.dy * g.c[i];
        basis[i * 4 + 2] = g.s[i];
    }
    basis[15] = 1;
    if (sp_mat4_invert(basis, g.inv) != 0) return SP_EINVAL;
    u_k = malloc((size_t)n * 3 * sizeof *u_k);
    if (!u_k) return SP_ENOMEM;
    a_k = u_k + n;
    b_k = u_k + 2 * n;
    for (int k = 0; k < n; k++) {
        double d[3], abu[3];
        for (int i = 0; i < 3; i++) d[i] = sr->slice_ipp[3 * k + i] - o0[i];
        to_input(&g, d, abu);
        a_k[k] = abu[0], b_k[k] = abu[1], u_k[k] = abu[2];
    }
    /* Extent along w: the column range of the first and last slice, projected. */
    double wmin = 1e30, wmax = -1e30;
    for (int e = 0; e < 2; e++) {
        const double *o = sr->slice_ipp + 3 * (e ? n - 1 : 0);
        for (int j = 0; j < 2; j++) {
            double p[3];
            for (int i = 0; i < 3; i++) p[i] = o[i] - o0[i] + (j ? (stack->ny - 1) * g.dy * g.c[i] : 0);
            double wc = sp_dot3(p, g.w);
            if (wc < wmin) wmin = wc;
            if (wc > wmax) wmax = wc;
        }
    }
    g.nx = stack->nx;
    g.ny = (int)floor((wmax - wmin) / g.dy + 0.5) + 1;
    g.nz = (int)floor((u_k[n - 1] - u_k[0]) / g.dz + 0.5) + 1;
    for (int i = 0; i < 3; i++) g.origin[i] = o0[i] + wmin * g.w[i] + u_k[0] * g.s[i];
    v = sp_vol_new(stack->dtype, g.nx, g.ny, g.nz);
    if (!v) {
        free(u_k);
        return SP_ENOMEM;
    }
    {
        double dir[9] = {g.r[0], g.w[0], g.s[0], g.r[1], g.w[1], g.s[1], g.r[2], g.w[2], g.s[2]};
        double spc[3] = {g.dx, g.dy, g.dz};
        sp_vol_set_geometry(v, dir, spc, g.origin);
    }
    const grid *gp = &g;
    int nz = g.nz;
    /* omp: iteration k writes only output slice k; reads the const input stack. */
    SP_OMP(parallel for default(none) shared(gp, stack, v, u_k, a_k, b_k, n, nz, air, o0) schedule(static))
    for (int k = 0; k < nz; k++) {
        int lo = 0;
        for (int j = 0; j < gp->ny; j++) {
            double X[3], d[3], abu[3];
            for (int i = 0; i < 3; i++) X[i] = gp->origin[i] + j * gp->dy * gp->w[i] + k * gp->dz * gp->s[i];
            for (int i = 0; i < 3; i++) d[i] = X[i] - o0[i];
            to_input(gp, d, abu);
            double u = abu[2];
            while (lo + 1 < n - 1 && u_k[lo + 1] <= u) lo++;
            while (lo > 0 && u_k[lo] > u) lo--;
            int hi = lo + 1 < n ? lo + 1 : lo;
            double t = (hi != lo && u_k[hi] > u_k[lo]) ? (u - u_k[lo]) / (u_k[hi] - u_k[lo]) : 0.0;
            bool inside = u >= u_k[0] - 1e-6 && u <= u_k[n - 1] + 1e-6;
            for (int i = 0; i < gp->nx; i++) {
                double a = abu[0] + i, val = air;
                if (inside) {
                    double v0 = sample(stack, lo, a - a_k[lo], abu[1] - b_k[lo]);
                    double v1 = hi != lo ? sample(stack, hi, a - a_k[hi], abu[1] - b_k[hi]) : v0;
                    if (!isnan(v0) && !isnan(v1)) val = (1 - t) * v0 + t * v1;
                    else if (!isnan(v0) && t < 0.5) val = v0;
                    else if (!isnan(v1) && t >= 0.5) val = v1;
                }
                size_t idx = sp_vol_idx(v, i, j, k);
                if (v->dtype == SP_I16) ((int16_t *)v->data)[idx] = (int16_t)lrint(fmax(-32768, fmin(32767, val)));
                else ((float *)v->data)[idx] = (float)val;
            }
        }
    }
    free(u_k);
    *out = v;
    return SP_OK;
}
