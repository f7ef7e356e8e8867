/* sp_phantom.h - synthetic spine CT phantoms with known ground truth.
 *
 * A phantom is described by a JSON spec (docs/phantom.md: every field
 * optional, `{}` is a normal T1-S1 spine). Generation makes an int16 HU CT
 * volume plus three uint8 label maps on the same grid (vertebrae with VerSe
 * numbering, vertebral parts, lesions) and the truth record (truth.json).
 * The same spec (and seed) always gives byte-identical output, at any
 * number of OpenMP threads. */
#ifndef SP_PHANTOM_H
#define SP_PHANTOM_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/sp_status.h"
#include "../core/sp_volume.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SP_PHANTOM_SCHEMA_VERSION 1

typedef struct sp_phantom_spec sp_phantom_spec; /* parsed, validated spec */
typedef struct sp_phantom sp_phantom;           /* a generated phantom */

/* Part labels of truth_parts (0 = not bone of a vertebra/rib/pelvis). */
enum {
    SP_PART_BODY = 1,
    SP_PART_PEDICLE_L = 2,
    SP_PART_PEDICLE_R = 3,
    SP_PART_LAMINA_L = 4,
    SP_PART_LAMINA_R = 5,
    SP_PART_SPINOUS = 6,
    SP_PART_TRANSVERSE_L = 7,
    SP_PART_TRANSVERSE_R = 8,
    SP_PART_FACET_L = 9,
    SP_PART_FACET_R = 10,
    SP_PART_RIB_L = 11,
    SP_PART_RIB_R = 12,
    SP_PART_SACRUM = 13, /* sacrum apart from the S1 body */
    SP_PART_ILIUM = 14,
    SP_PART_COUNT = 15
};

/* Lesion labels of truth_lesions. */
enum {
    SP_LES_LYTIC = 1,        /* intraosseous lytic tumour (and breached cortex) */
    SP_LES_BLASTIC = 2,      /* intraosseous sclerotic tumour */
    SP_LES_PARAVERTEBRAL = 3, /* extraosseous soft-tissue extension (WBB layer A) */
    SP_LES_EPIDURAL = 4      /* epidural tumour in the canal (WBB layer D) */
};

/* ---- Specs ----------------------------------------------------------- */

/* Parses the JSON text json (name is used in messages, e.g. the file path).
 * Unknown fields and invalid values fail with SP_EINVAL and a message naming
 * name and the field. *out NULL on failure; caller owns it. */
sp_status sp_phantom_spec_parse(const char *json, const char *name, sp_phantom_spec **out,
                                sp_err *err);

/* Reads and parses a spec file (SP_EIO when unreadable). */
sp_status sp_phantom_spec_load(const char *path, sp_phantom_spec **out, sp_err *err);

/* Overrides the spec's seed. */
void sp_phantom_spec_set_seed(sp_phantom_spec *s, uint64_t seed);

void sp_phantom_spec_free(sp_phantom_spec *s); /* NULL ok */

/* ---- Generation ------------------------------------------------------ */

/* Builds the anatomy, renders the CT and label volumes (OpenMP over z) and
 * computes the truth. s is borrowed (copied as needed). *out NULL on failure;
 * caller owns it. Not to be called from inside a parallel region. */
sp_status sp_phantom_generate(const sp_phantom_spec *s, sp_phantom **out, sp_err *err);

void sp_phantom_free(sp_phantom *p); /* NULL ok */

/* Borrowed views of the generated volumes (valid while p lives). ct is
 * SP_I16 HU; the label maps are SP_U8 on the same grid. */
const sp_volume *sp_phantom_ct(const sp_phantom *p);
const sp_volume *sp_phantom_vertebrae(const sp_phantom *p);
const sp_volume *sp_phantom_parts(const sp_phantom *p);
const sp_volume *sp_phantom_lesions(const sp_phantom *p);

/* Seconds spent rendering the volumes in the last sp_phantom_generate. */
double sp_phantom_render_seconds(const sp_phantom *p);

/* ---- Output ---------------------------------------------------------- */

/* Writes truth.json (schema docs/phantom.md) to path. */
sp_status sp_phantom_write_truth(const sp_phantom *p, const char *path, sp_err *err);

/* Returns the truth record as a JSON string (malloc'd; caller frees). NULL
 * on out of memory. */
char *sp_phantom_truth_json(const sp_phantom *p);

/* Writes the CT series into dir (created if missing) as one CT Image
 * Storage file per slice, IM00001.dcm upwards from the most cranial slice. */
sp_status sp_phantom_write_dicom(const sp_phantom *p, const char *dir, sp_err *err);

/* Writes truth_vertebrae/parts/lesions.nii.gz into dir. */
sp_status sp_phantom_write_labels(const sp_phantom *p, const char *dir, sp_err *err);

/* Renders a mid-sagittal and an axial preview (bone window, labels not
 * shown) to sagittal_png and axial_png (either may be NULL). The axial cut
 * goes through the middle of the body of the level named axial_level (NULL:
 * the middle level). */
sp_status sp_phantom_write_previews(const sp_phantom *p, const char *sagittal_png,
                                    const char *axial_png, const char *axial_level, sp_err *err);

/* Everything: dir/dicom/, dir/truth.json and the three label maps. */
sp_status sp_phantom_write_all(const sp_phantom *p, const char *dir, sp_err *err);

#ifdef __cplusplus
}
#endif
#endif
