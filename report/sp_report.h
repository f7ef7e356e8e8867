/* sp_report.h - the outputs a surgeon reads and a PACS stores.
 *
 * From the loaded CT, the segmentation and the scores: report.html (one
 * self-contained file with the key images embedded), keyimages/NAME.png,
 * report.csv (one row per vertebra) and, for DICOM input, seg.dcm (DICOM
 * Segmentation of the vertebrae and lesions) and sr.dcm (TID 1500
 * measurement report). report.json is written by score/. Contents, codes and
 * the de-identification rule: docs/report.md.
 *
 * All functions are deterministic (same inputs -> byte-identical files at any
 * thread count), fail with SP_EIO naming the file, and must not be called
 * from inside a parallel region. Every pointer argument is borrowed. */
#ifndef SP_REPORT_H
#define SP_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/sp_status.h"
#include "../core/sp_volume.h"
#include "../io/dicom.h"
#include "../score/sp_score.h"
#include "../segment/sp_segment.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sp_report_opts {
    bool deidentify;       /* no patient identifiers in any output (docs/report.md) */
    bool dicom;            /* write seg.dcm and sr.dcm (needs refs: DICOM input) */
    const char *deid_salt; /* with deidentify: the UID mapping's key; NULL: the built-in salt */
} sp_report_opts;

/* Everything the writers share. refs is NULL for a NIfTI input. */
typedef struct sp_report_ctx {
    const sp_volume *ct;
    const sp_seg_result *seg;
    const sp_score_result *res;
    const sp_report_input *in;
    const sp_series_refs *refs;
    sp_report_opts opts;
    sp_volume *lesion;   /* SP_U8 on ct's grid: 1 lytic, 2 blastic; res->lesion_mask borrowed, else owned */
    bool lesion_borrowed;
} sp_report_ctx;

/* Fills ctx; the lesion mask is score's (res->lesion_mask), or, for a
 * result without one, re-derived (voxels of an involved vertebra beyond
 * the lesion thresholds, away from its surface). SP_ENOMEM. */
sp_status sp_report_ctx_init(sp_report_ctx *ctx, const sp_volume *ct, const sp_seg_result *seg,
                             const sp_score_result *res, const sp_report_input *in,
                             const sp_series_refs *refs, const sp_report_opts *opts);
void sp_report_ctx_clear(sp_report_ctx *ctx);

/* ---- Key images (keyimages.c) ---------------------------------------- */

#define SP_REPORT_MAX_IMAGES (2 + SP_SEG_MAX_VERT)

typedef struct sp_keyimage {
    char file[64];      /* relative to the output folder: "keyimages/sagittal.png" */
    char caption[200];
    int vertebra;       /* index into res->v for an axial image, -1 for reformats */
    int width, height;
} sp_keyimage;

typedef struct sp_keyimages {
    int n;
    sp_keyimage im[SP_REPORT_MAX_IMAGES];
} sp_keyimages;

/* Renders DIR/keyimages/sagittal.png, coronal.png and one axial_<LEVEL>.png
 * per vertebra with a lesion (WBB sectors drawn). out lists them. */
sp_status sp_report_keyimages(const sp_report_ctx *ctx, const char *dir, sp_keyimages *out, sp_err *err);

/* ---- HTML, CSV (report_html.c, report_csv.c) ---------------------------- */

/* DIR/report.html with the key images of ki (read back from DIR) embedded. */
sp_status sp_report_write_html(const sp_report_ctx *ctx, const sp_keyimages *ki, const char *dir, sp_err *err);

/* DIR/report.csv: a header row then one row per vertebra (docs/report.md). */
sp_status sp_report_write_csv(const sp_report_ctx *ctx, const char *dir, sp_err *err);

/* report.csv's column names in header order (*n of them, 46 now; n may be
 * NULL): static, never freed. For files that mirror its columns (cohort.csv). */
const char *const *sp_report_csv_columns(int *n);

/* ---- DICOM (report_dicom.c) ---------------------------------------------- */

/* DIR/seg.dcm and DIR/sr.dcm referencing the source series (ctx->refs must
 * not be NULL; SP_EINVAL otherwise). UIDs derived from the source series UID
 * and a hash of the content (docs/report.md). */
sp_status sp_report_write_dicom(const sp_report_ctx *ctx, const char *dir, sp_err *err);

/* False (and why, e.g. "the source series has no Series Instance UID") when
 * the source lacks a UID that seg.dcm and sr.dcm must reference: Study,
 * Series, Frame of Reference or any SOP Instance UID. Such objects would
 * point at nothing a PACS can resolve, so the caller skips them and says so. */
bool sp_report_dicom_refs_usable(const sp_series_refs *refs, char *why, size_t n);

/* ---- De-identification (deid.c) ------------------------------------------ */

/* The salt used when the user gives none (--deid-salt, SPINEMET_DEID_SALT).
 * Public: with it, anyone holding an original UID can recompute its mapping. */
#define SP_DEID_BUILTIN_SALT "spinemet de-identification built-in salt v1"

/* SHA-256 of n bytes; HMAC-SHA-256 of msg with key (OpenSSL libcrypto).
 * SP_ENOMEM when libcrypto fails. */
sp_status sp_report_sha256(const void *data, size_t n, uint8_t out[32]);
sp_status sp_report_hmac_sha256(const void *key, size_t nkey, const void *msg, size_t nmsg, uint8_t out[32]);

/* The de-identified replacement of a UID: "2.25." + the decimal value of the
 * first 16 bytes of HMAC-SHA-256(key = salt, message = uid), version and
 * variant bits set as an RFC 9562 version-8 UUID. Deterministic; "" for an
 * empty uid; salt NULL means SP_DEID_BUILTIN_SALT. out: SP_UID_LEN bytes. */
sp_status sp_report_deid_uid(const char *salt, const char *uid, char out[SP_UID_LEN]);

/* ---- Helpers shared with the CLI ---------------------------------------- */

/* Base64 of n bytes into a malloc'd NUL-terminated string; NULL on OOM. */
char *sp_report_base64(const uint8_t *data, size_t n);

#ifdef __cplusplus
}
#endif
#endif
