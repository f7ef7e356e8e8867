/* work.c - the coarse work grid: block-mean HU, patient outline, bone mask.
 *
 * DESIGN: block means of the canonical grid (integer factors giving about
 * 1.5 mm voxels) keep localisation fast on 0.6-1 mm scans and leave coarse
 * scans (3 mm) untouched. Sums are int64 of int16 values, so the means are
 * exact and identical at any thread count. The outline is the largest
 * 6-connected component above -400 HU with each axial slice's holes filled
 * (lungs and bowel gas belong to the patient; the table does not). */
#define SP_SEGMENT_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_omp.h"

/* Fills the holes of a 2-D mask (nx*ny) in place: background not reachable
 * from the border becomes 1. stack has room for nx*ny ints. */
static void fill_holes_2d(uint8_t *m, int nx, int ny, int *stack)
{
    int top = 0;
    /* mark outside background as 2 */
    for (int x = 0; x < nx; x++) {
        if (!m[x]) m[x] = 2, stack[top++] = x;
        int b = (ny - 1) * nx + x;
        if (!m[b]) m[b] = 2, stack[top++] = b;
    }
    for (int y = 0; y < ny; y++) {
        int a = y * nx, b = y * nx + nx - 1;
        if (!m[a]) m[a] = 2, stack[top++] = a;
        if (!m[b]) m[b] = 2, stack[top++] = b;
    }
    while (top > 0) {
        int p = stack[--top], x = p % nx, y = p / nx;
        int nb[4] = {x > 0 ? p - 1 : -1, x < nx - 1 ? p + 1 : -1, y > 0 ? p - nx : -1, y < ny - 1 ? p + nx : -1};
        for (int k = 0; k < 4; k++)
            if (nb[k] >= 0 && !m[nb[k]]) m[nb[k]] = 2, stack[top++] = nb[k];
    }
    for (int i = 0; i < nx * ny; i++) m[i] = m[i] == 2 ? 0 : 1;
}

/* Keeps the largest 6-connected component of m (values 0/1). */
static sp_status keep_largest(uint8_t *m, const int n[3])
{
    size_t nvox = (size_t)n[0] * n[1] * n[2], nxy = (size_t)n[0] * n[1];
    int32_t *comp = calloc(nvox, sizeof *comp);
    size_t *queue = malloc(nvox * sizeof *queue);
    int32_t ncomp = 0, best = 0;
    size_t best_size = 0;
    if (!comp || !queue) {
        free(comp);
        free(queue);
        return SP_ENOMEM;
    }
    for (size_t s = 0; s < nvox; s++) {
        if (!m[s] || comp[s]) continue;
        size_t head = 0, tail = 0;
        comp[s] = ++ncomp;
        queue[tail++] = s;
        while (head < tail) {
            size_t p = queue[head++];
            int x = (int)(p % n[0]), y = (int)((p / n[0]) % n[1]), z = (int)(p / nxy);
            size_t nb[6];
            int k = 0;
            if (x > 0) nb[k++] = p - 1;
            if (x < n[0] - 1) nb[k++] = p + 1;
            if (y > 0) nb[k++] = p - n[0];
            if (y < n[1] - 1) nb[k++] = p + n[0];
            if (z > 0) nb[k++] = p - nxy;
            if (z < n[2] - 1) nb[k++] = p + nxy;
            for (int i = 0; i < k; i++)
                if (m[nb[i]] && !comp[nb[i]]) comp[nb[i]] = ncomp, queue[tail++] = nb[i];
        }
        if (tail > best_size) best_size = tail, best = ncomp;
    }
    for (size_t i = 0; i < nvox; i++) m[i] = comp[i] == best && best > 0;
    free(comp);
    free(queue);
    return SP_OK;
}

static void block_means(const seg_canon *c, seg_work *w)
{
    const int16_t *hu = c->hu;
    int16_t *out = w->hu;
    const int *f = w->f, *cn = c->n, *wn = w->n;
    /* omp: iteration z writes work slice z only; int64 sums are exact. */
    SP_OMP(parallel for default(none) shared(hu, out, f, cn, wn) schedule(static))
    for (int z = 0; z < wn[2]; z++)
        for (int y = 0; y < wn[1]; y++)
            for (int x = 0; x < wn[0]; x++) {
                int64_t sum = 0, cnt = 0;
                for (int dz = 0; dz < f[2]; dz++)
                    for (int dy = 0; dy < f[1]; dy++)
                        for (int dx = 0; dx < f[0]; dx++) {
                            int X = x * f[0] + dx, Y = y * f[1] + dy, Z = z * f[2] + dz;
                            if (X >= cn[0] || Y >= cn[1] || Z >= cn[2]) continue;
                            sum += hu[((size_t)Z * cn[1] + Y) * cn[0] + X];
                            cnt++;
                        }
                out[((size_t)z * wn[1] + y) * wn[0] + x] = (int16_t)(cnt ? sum / cnt : -1024);
            }
}

sp_status seg_work_make(const seg_canon *c, seg_work *w)
{
    size_t nvox, nxy;
    int *stack;
    memset(w, 0, sizeof *w);
    for (int a = 0; a < 3; a++) {
        w->f[a] = (int)floor(SEG_WORK_MM / c->spacing[a] + 0.5);
        if (w->f[a] < 1) w->f[a] = 1;
        w->n[a] = (c->n[a] + w->f[a] - 1) / w->f[a];
        w->spacing[a] = c->spacing[a] * w->f[a];
    }
    nxy = (size_t)w->n[0] * w->n[1];
    nvox = nxy * w->n[2];
    w->hu = malloc(nvox * sizeof *w->hu);
    w->body = malloc(nvox);
    w->bone = malloc(nvox);
    stack = malloc(nxy * sizeof *stack);
    if (!w->hu || !w->body || !w->bone || !stack) {
        free(stack);
        seg_work_free(w);
        return SP_ENOMEM;
    }
    block_means(c, w);
    for (size_t i = 0; i < nvox; i++) w->body[i] = w->hu[i] > SEG_BODY_HU;
    if (keep_largest(w->body, w->n) != SP_OK) {
        free(stack);
        seg_work_free(w);
        return SP_ENOMEM;
    }
    for (int z = 0; z < w->n[2]; z++) fill_holes_2d(w->body + z * nxy, w->n[0], w->n[1], stack);
    for (size_t i = 0; i < nvox; i++) w->bone[i] = w->body[i] && w->hu[i] >= SEG_BONE_HU;
    free(stack);
    return SP_OK;
}

void seg_work_free(seg_work *w)
{
    free(w->hu);
    free(w->body);
    free(w->bone);
    w->hu = NULL;
    w->body = w->bone = NULL;
}

double seg_work_sample(const seg_work *w, double x, double y, double z)
{
    int x0 = (int)floor(x), y0 = (int)floor(y), z0 = (int)floor(z);
    double fx = x - x0, fy = y - y0, fz = z - z0, v = 0;
    for (int d = 0; d < 8; d++) {
        int X = x0 + (d & 1), Y = y0 + ((d >> 1) & 1), Z = z0 + ((d >> 2) & 1);
        double wt = ((d & 1) ? fx : 1 - fx) * (((d >> 1) & 1) ? fy : 1 - fy) * (((d >> 2) & 1) ? fz : 1 - fz);
        if (X < 0) X = 0;
        if (Y < 0) Y = 0;
        if (Z < 0) Z = 0;
        if (X >= w->n[0]) X = w->n[0] - 1;
        if (Y >= w->n[1]) Y = w->n[1] - 1;
        if (Z >= w->n[2]) Z = w->n[2] - 1;
        v += wt * w->hu[((size_t)Z * w->n[1] + Y) * w->n[0] + X];
    }
    return v;
}
