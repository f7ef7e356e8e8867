/* sp_volume.h - the volume type: a plain struct (nifti_image style).
 *
 * Data are contiguous, x fastest, then y, then z (slice). Geometry is in
 * DICOM patient space (LPS, millimetres): ijk_to_lps maps a voxel index
 * (i, j, k, 1) to a point; its columns are direction * spacing and origin.
 * Only sp_vol_new* allocate, so the invariants (size, alignment) hold. */
#ifndef SP_VOLUME_H
#define SP_VOLUME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sp_dtype { SP_I16 = 1, SP_U8 = 2, SP_F32 = 3 } sp_dtype;

typedef struct sp_volume {
    sp_dtype dtype;
    int32_t nx, ny, nz;    /* x fastest, z = slice */
    double spacing[3];     /* mm; z from slice positions, not SliceThickness */
    double ijk_to_lps[16]; /* row-major 4x4, DICOM patient space */
    double slope, inter;   /* value = raw*slope + inter; (1,0) once baked */
    void *data;            /* owned; 64-byte aligned; nx*ny*nz elements, zeroed */
} sp_volume;

/* Size of one element of type t in bytes (0 for an unknown type). */
size_t sp_dtype_size(sp_dtype t);

/* New zero-filled volume with identity geometry (spacing 1, origin 0) and
 * slope 1, intercept 0. Returns NULL on bad size, overflow or no memory.
 * Caller owns the result (sp_vol_free). Safe in parallel regions: no. */
sp_volume *sp_vol_new(sp_dtype t, int32_t nx, int32_t ny, int32_t nz);

/* New zero-filled volume with ref's size and geometry and type t (slope 1,
 * intercept 0). ref is borrowed. NULL on error. */
sp_volume *sp_vol_new_like(const sp_volume *ref, sp_dtype t);

/* Deep copy. NULL on error. */
sp_volume *sp_vol_clone(const sp_volume *v);

/* Frees v and its data. NULL ok. */
void sp_vol_free(sp_volume *v);

/* Sets ijk_to_lps from direction cosines (3x3, columns = axes i, j, k as
 * unit vectors, row-major dir[r*3+c]), spacing and origin, and copies spacing. */
void sp_vol_set_geometry(sp_volume *v, const double dir[9], const double spacing[3],
                         const double origin[3]);

/* Maps a continuous voxel index to LPS mm. */
void sp_vol_ijk_to_lps(const sp_volume *v, const double ijk[3], double lps[3]);

/* Bytes of voxel data (nvox * element size). */
size_t sp_vol_bytes(const sp_volume *v);

static inline size_t sp_vol_nvox(const sp_volume *v)
{
    return (size_t)v->nx * (size_t)v->ny * (size_t)v->nz;
}

static inline size_t sp_vol_idx(const sp_volume *v, int32_t x, int32_t y, int32_t z)
{
    return ((size_t)z * (size_t)v->ny + (size_t)y) * (size_t)v->nx + (size_t)x;
}

#ifdef SP_DEBUG
#include <assert.h>
#define SP_VOL_AT(v, T, x, y, z)                                                        \
    (*(assert((x) >= 0 && (x) < (v)->nx && (y) >= 0 && (y) < (v)->ny && (z) >= 0 &&     \
              (z) < (v)->nz),                                                           \
       &((T *)(v)->data)[sp_vol_idx((v), (x), (y), (z))]))
#else
#define SP_VOL_AT(v, T, x, y, z) (((T *)(v)->data)[sp_vol_idx((v), (x), (y), (z))])
#endif

#ifdef __cplusplus
}
#endif
#endif
