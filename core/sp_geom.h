/* sp_geom.h - small vector and 3x3/4x4 helpers for LPS geometry. Pure functions. */
#ifndef SP_GEOM_H
#define SP_GEOM_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

double sp_dot3(const double a[3], const double b[3]);
void sp_cross3(const double a[3], const double b[3], double out[3]);
double sp_norm3(const double a[3]);
/* Normalises a in place; returns its former length (0 leaves a unchanged). */
double sp_normalize3(double a[3]);
/* Inverts a row-major 4x4 affine; returns 0 on success, -1 if singular. */
int sp_mat4_invert(const double m[16], double out[16]);
/* out = a * b (row-major 4x4). out may not alias a or b. */
void sp_mat4_mul(const double a[16], const double b[16], double out[16]);
/* Least-squares plane w = out[0] u + out[1] v + out[2] through the points i
 * with use[i] (all when use is NULL). Returns 1, or 0 with fewer than 3
 * points or a degenerate set (collinear). */
int sp_ls_plane(const double *u, const double *v, const double *w, const bool *use, int n, double out[3]);

#ifdef __cplusplus
}
#endif
#endif
