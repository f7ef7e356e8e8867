/* dicom_fixtures.h - small generated DICOM series for ingest tests.
 *
 * Every voxel holds a known HU value, fixture_hu(x, y, z), so a test can
 * check what the loader returns voxel by voxel. */
#ifndef SP_DICOM_FIXTURES_H
#define SP_DICOM_FIXTURES_H

#include <stdbool.h>

#include "io/dicom.h"

typedef struct fixture_opts {
    int nx, ny, nz;          /* default 37 x 41 x 23 (odd sizes on purpose) */
    double spacing[3];       /* default 0.7, 0.8 (column, row), 2.5 mm between slices */
    double thickness;        /* SliceThickness written; default = spacing[2] */
    double tilt_deg;         /* gantry tilt about the x axis */
    sp_dicom_syntax syntax;
    bool unsigned_px;        /* unsigned 12-bit stored values, intercept -1024 */
    const char *image_type;  /* default ORIGINAL\PRIMARY\AXIAL */
    const char *series_uid;  /* NULL: derived from series_number */
    const char *study_uid;   /* NULL: a fixed study UID; "" leaves it empty */
    int series_number;       /* default 1 */
    bool shuffle_names;      /* file names in a scrambled order */
    int drop_slice;          /* index of a slice not written; -1 none */
    int duplicate_slice;     /* index written twice (second copy, other name); -1 none */
    const char *prefix;      /* file name prefix, default "IM" */
} fixture_opts;

/* Defaults as documented above. */
fixture_opts fixture_defaults(void);

/* Known HU of voxel (x, y, z) of the fixture. */
int fixture_hu(int x, int y, int z);

/* Writes the series into dir (created if needed). Returns 0 or -1. */
int fixture_write(const char *dir, const fixture_opts *o);

#endif
