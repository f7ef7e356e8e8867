/* dicom_fixtures.c - write small CT series with known voxels through the
 * project's own DICOM writer (io/dicom.h). */
#include "dicom_fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

fixture_opts fixture_defaults(void)
{
    fixture_opts o;
    memset(&o, 0, sizeof o);
    o.nx = 37, o.ny = 41, o.nz = 23;
    o.spacing[0] = 0.7, o.spacing[1] = 0.8, o.spacing[2] = 2.5;
    o.series_number = 1;
    o.drop_slice = -1;
    o.duplicate_slice = -1;
    return o;
}

int fixture_hu(int x, int y, int z) { return (x * 7 + y * 13 + z * 101) % 2500 - 1000; }

static int write_one(const char *dir, const fixture_opts *o, int z, const char *name_suffix)
{
    char path[1200], sop[80], series[80];
    double t = o->tilt_deg * M_PI / 180.0;
    sp_dicom_slice_meta m;
    uint16_t *px = malloc((size_t)o->nx * (size_t)o->ny * sizeof *px);
    int rc;
    sp_err e;
    if (!px) return -1;
    memset(&m, 0, sizeof m);
    snprintf(series, sizeof series, "1.2.826.0.1.3680043.10.1234.2.%d", o->series_number);
    snprintf(sop, sizeof sop, "%s.%d%s", o->series_uid ? o->series_uid : series, z + 1, *name_suffix ? ".9" : "");
    m.study_uid = o->study_uid ? o->study_uid : "1.2.826.0.1.3680043.10.1234.1";
    m.series_uid = o->series_uid ? o->series_uid : series;
    m.sop_instance_uid = sop;
    m.frame_of_ref_uid = "1.2.826.0.1.3680043.10.1234.3";
    m.patient_name = "FIXTURE^SERIES";
    m.patient_id = "FIX001";
    m.study_date = "20260101";
    m.study_time = "120000";
    m.series_description = "fixture";
    m.manufacturer = "spinemet tests";
    m.image_type = o->image_type;
    m.series_number = o->series_number;
    m.instance_number = z + 1;
    m.rows = o->ny, m.cols = o->nx;
    m.pixel_rep = o->unsigned_px ? 0 : 1;
    m.bits_stored = o->unsigned_px ? 12 : 16;
    m.slope = 1;
    m.intercept = -1024;
    m.pixel_spacing[0] = o->spacing[1];
    m.pixel_spacing[1] = o->spacing[0];
    m.slice_thickness = o->thickness > 0 ? o->thickness : o->spacing[2];
    /* Tilted gantry: the column axis leans by t; the table still moves along z. */
    m.iop[0] = 1, m.iop[1] = 0, m.iop[2] = 0;
    m.iop[3] = 0, m.iop[4] = cos(t), m.iop[5] = -sin(t);
    m.ipp[0] = -12.5, m.ipp[1] = -20.0, m.ipp[2] = 100.0 + z * o->spacing[2];
    m.gantry_tilt = o->tilt_deg;
    m.syntax = o->syntax;
    for (int y = 0; y < o->ny; y++)
        for (int x = 0; x < o->nx; x++) {
            int stored = fixture_hu(x, y, z) + 1024; /* 24 .. 2523: fits 12 bits unsigned */
            px[(size_t)y * (size_t)o->nx + (size_t)x] = (uint16_t)stored;
        }
    if (o->shuffle_names)
        snprintf(path, sizeof path, "%s/%s%05d%s", dir, o->prefix ? o->prefix : "IM", (z * 7919) % 10007, name_suffix);
    else
        snprintf(path, sizeof path, "%s/%s%04d%s", dir, o->prefix ? o->prefix : "IM", z, name_suffix);
    rc = sp_dicom_write_slice(path, &m, px, &e) == SP_OK ? 0 : -1;
    if (rc) fprintf(stderr, "fixture: %s\n", e.msg);
    free(px);
    return rc;
}

int fixture_write(const char *dir, const fixture_opts *o)
{
    mkdir(dir, 0755);
    for (int z = 0; z < o->nz; z++) {
        if (z == o->drop_slice) continue;
        if (write_one(dir, o, z, "") != 0) return -1;
        if (z == o->duplicate_slice && write_one(dir, o, z, "_dup") != 0) return -1;
    }
    return 0;
}
