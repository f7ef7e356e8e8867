/* sp_status.h - status codes and the caller-owned error record.
 *
 * Every fallible public function returns sp_status. Functions that can fail
 * for reasons other than "no memory" or "bad argument" also take a trailing
 * sp_err * (may be NULL) that receives a human-readable message. */
#ifndef SP_STATUS_H
#define SP_STATUS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sp_status {
    SP_OK = 0,
    SP_ENOMEM,       /* allocation or size overflow */
    SP_EINVAL,       /* caller passed something inconsistent */
    SP_EIO,          /* file system */
    SP_EDICOM,       /* unreadable / unsupported / inconsistent DICOM or series */
    SP_EITK,         /* C++ dependency threw or failed */
    SP_EUNSUPPORTED, /* valid input we do not handle yet */
    SP_EINTERNAL     /* bug: invariant broken */
} sp_status;

typedef struct sp_err {
    sp_status code;
    char msg[512];
} sp_err;

/* Short name of a status ("ok", "out of memory", ...). Never NULL. */
const char *sp_status_str(sp_status s);

/* Fills err (if non-NULL) with code and the formatted message; returns code.
 * Thread-safe: touches only *err. */
sp_status sp_fail(sp_err *err, sp_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Resets err to SP_OK with an empty message. NULL ok. */
void sp_err_clear(sp_err *err);

#ifdef __cplusplus
}
#endif
#endif
