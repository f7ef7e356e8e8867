/* geom.c - vector and matrix helpers used by series assembly and NIfTI I/O. */
#include "sp_geom.h"

#include <math.h>
#include <string.h>

double sp_dot3(const double a[3], const double b[3]) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

void sp_cross3(const double a[3], const double b[3], double out[3])
{
    double t[3] = {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
    memcpy(out, t, sizeof t);
}

double sp_norm3(const double a[3]) { return sqrt(sp_dot3(a, a)); }

double sp_normalize3(double a[3])
{
    double n = sp_norm3(a);
    if (n > 0) {
        a[0] /= n;
        a[1] /= n;
        a[2] /= n;
    }
    return n;
}

void sp_mat4_mul(const double a[16], const double b[16], double out[16])
{
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) {
            double s = 0;
            for (int k = 0; k < 4; k++) s += a[r * 4 + k] * b[k * 4 + c];
            out[r * 4 + c] = s;
        }
}

int sp_mat4_invert(const double m[16], double out[16])
{
    /* Affine: invert the 3x3 block by cofactors, then the translation. */
    const double a = m[0], b = m[1], c = m[2], d = m[4], e = m[5], f = m[6], g = m[8], h = m[9],
                 i = m[10];
    double det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
    double r[9];
    if (fabs(det) < 1e-12) return -1;
    r[0] = (e * i - f * h) / det;
    r[1] = (c * h - b * i) / det;
    r[2] = (b * f - c * e) / det;
    r[3] = (f * g - d * i) / det;
    r[4] = (a * i - c * g) / det;
    r[5] = (c * d - a * f) / det;
    r[6] = (d * h - e * g) / det;
    r[7] = (b * g - a * h) / det;
    r[8] = (a * e - b * d) / det;
    for (int row = 0; row < 3; row++) {
        for (int col = 0; col < 3; col++) out[row * 4 + col] = r[row * 3 + col];
        out[row * 4 + 3] = -(r[row * 3] * m[3] + r[row * 3 + 1] * m[7] + r[row * 3 + 2] * m[11]);
    }
    out[12] = out[13] = out[14] = 0;
    out[15] = 1;
    return 0;
}

int sp_ls_plane(const double *u, const double *v, const double *w, const bool *use, int n, double out[3])
{
    double A[3][4] = {{0}};
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (use && !use[i]) continue;
        double r[3] = {u[i], v[i], 1.0};
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) A[a][b] += r[a] * r[b];
            A[a][3] += r[a] * w[i];
        }
        m++;
    }
    if (m < 3) return 0;
    for (int col = 0; col < 3; col++) { /* Gauss-Jordan with partial pivoting */
        int piv = col;
        for (int r = col + 1; r < 3; r++)
            if (fabs(A[r][col]) > fabs(A[piv][col])) piv = r;
        if (fabs(A[piv][col]) < 1e-9) return 0;
        for (int k = 0; k < 4; k++) {
            double t = A[col][k];
            A[col][k] = A[piv][k], A[piv][k] = t;
        }
        for (int r = 0; r < 3; r++) {
            if (r == col) continue;
            double f = A[r][col] / A[col][col];
            for (int k = 0; k < 4; k++) A[r][k] -= f * A[col][k];
        }
    }
    for (int a = 0; a < 3; a++) out[a] = A[a][3] / A[a][a];
    return 1;
}
