/* write_dicom.c - writes the phantom CT as a DICOM series (one CT Image
 * Storage file per slice) through the DCMTK shim, with UIDs derived from the
 * spec so that the same spec always gives the same files.
 *
 * DESIGN: UIDs are "2.25." + the decimal of a 128-bit hash of (canonical
 * spec text, seed, role, index) - the ISO/IEC 9834-8 UUID-derived root, no
 * registered org root needed, and no randomness. Pixels are stored unsigned
 * 12-bit (0..4095) with RescaleIntercept -1024, slope 1, as many scanners
 * do; HU outside [-1024, 3071] were clamped when rendering. Instance 1 is the
 * most cranial slice; files are IM00001.dcm, IM00002.dcm, ... */
#define SP_PHANTOM_INTERNAL
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/dicom.h"

static uint64_t fnv_mix(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001B3ull;
    }
    return ph_hash64(h, n);
}

void ph_uid(const sp_phantom_spec *s, const char *role, int index, char out[65])
{
    uint64_t h[2], seed = s->seed;
    uint32_t limb[4];
    char dig[48];
    int nd = 0;
    for (int k = 0; k < 2; k++) {
        uint64_t x = 0xCBF29CE484222325ull ^ (k ? 0x9E3779B97F4A7C15ull : 0);
        const char *c = s->canonical ? s->canonical : "";
        x = fnv_mix(x, c, strlen(c));
        x = fnv_mix(x, &seed, sizeof seed);
        x = fnv_mix(x, role, strlen(role));
        x = fnv_mix(x, &index, sizeof index);
        h[k] = x;
    }
    limb[0] = (uint32_t)(h[0] >> 32);
    limb[1] = (uint32_t)h[0];
    limb[2] = (uint32_t)(h[1] >> 32);
    limb[3] = (uint32_t)h[1];
    /* decimal digits by long division of the 128-bit number by 10 */
    do {
        uint64_t rem = 0;
        int nz = 0;
        for (int k = 0; k < 4; k++) {
            uint64_t cur = (rem << 32) | limb[k];
            limb[k] = (uint32_t)(cur / 10);
            rem = cur % 10;
            if (limb[k]) nz = 1;
        }
        dig[nd++] = (char)('0' + rem);
        if (!nz) break;
    } while (nd < 45);
    memcpy(out, "2.25.", 5);
    for (int k = 0; k < nd; k++) out[5 + k] = dig[nd - 1 - k];
    out[5 + nd] = 0;
}

sp_status sp_phantom_write_dicom(const sp_phantom *p, const char *dir, sp_err *err)
{
    const sp_phantom_spec *s = p->spec;
    const sp_volume *ct = p->ct;
    char study[65], series[65], frame[65], sop[65], path[4096], desc[65];
    sp_dicom_slice_meta m;
    size_t nxy = (size_t)ct->nx * ct->ny;
    uint16_t *buf;
    sp_status st = SP_OK;
    if ((st = ph_mkdirs(dir, err))) return st;
    buf = malloc(nxy * sizeof *buf);
    if (!buf) return sp_fail(err, SP_ENOMEM, "out of memory");
    ph_uid(s, "study", 0, study);
    ph_uid(s, "series", 0, series);
    ph_uid(s, "frame-of-reference", 0, frame);
    snprintf(desc, sizeof desc, "%s", s->description);
    memset(&m, 0, sizeof m);
    m.study_uid = study;
    m.series_uid = series;
    m.frame_of_ref_uid = frame;
    m.sop_instance_uid = sop;
    m.patient_name = s->patient_name;
    m.patient_id = s->patient_id;
    m.patient_sex = "O";
    m.patient_birth_date = "";
    m.study_date = s->study_date;
    m.study_time = s->study_time;
    m.study_id = "1";
    m.accession_number = "";
    m.series_description = desc;
    m.kernel = "PHANTOM";
    m.manufacturer = "spinemet phantom";
    m.body_part = "SPINE";
    m.image_type = "ORIGINAL\\PRIMARY\\AXIAL";
    m.patient_position = s->position;
    m.series_number = 1;
    m.rows = ct->ny;
    m.cols = ct->nx;
    m.pixel_rep = 0;
    m.bits_stored = 12;
    m.slope = 1;
    m.intercept = -1024;
    m.pixel_spacing[0] = ct->spacing[1];
    m.pixel_spacing[1] = ct->spacing[0];
    m.slice_thickness = p->scene.thickness;
    m.iop[0] = 1;
    m.iop[4] = 1;
    m.gantry_tilt = 0;
    m.window_center = 300;
    m.window_width = 1500;
    m.syntax = SP_TS_EXPLICIT_LE;
    for (int k = ct->nz - 1, inst = 1; k >= 0 && !st; k--, inst++) {
        const int16_t *src = (const int16_t *)ct->data + (size_t)k * nxy;
        for (size_t i = 0; i < nxy; i++) buf[i] = (uint16_t)(src[i] + 1024);
        ph_uid(s, "image", inst, sop);
        m.instance_number = inst;
        m.ipp[0] = ct->ijk_to_lps[3];
        m.ipp[1] = ct->ijk_to_lps[7];
        m.ipp[2] = ct->ijk_to_lps[11] + k * ct->ijk_to_lps[10];
        snprintf(path, sizeof path, "%s/IM%05d.dcm", dir, inst);
        st = sp_dicom_write_slice(path, &m, buf, err);
    }
    free(buf);
    return st;
}
