/* exit_codes.h - the documented process exit codes (docs/exit-codes.md). */
#ifndef SP_EXIT_CODES_H
#define SP_EXIT_CODES_H

#include "core/sp_status.h"

enum {
    SP_EXIT_OK = 0,          /* success */
    SP_EXIT_USAGE = 1,       /* bad command line */
    SP_EXIT_IO = 2,          /* input missing or unreadable, output not writable */
    SP_EXIT_NO_SERIES = 3,   /* no usable image series / DICOM content unusable */
    SP_EXIT_UNSUPPORTED = 4, /* valid input the program does not handle yet */
    SP_EXIT_NOMEM = 5,       /* out of memory */
    SP_EXIT_INTERNAL = 6,    /* bug or C++ dependency failure */
    SP_EXIT_PARTIAL = 7      /* batch/pull/push finished; some studies (files) failed, timed out or were not run */
};

/* Maps a status to the exit code documented for it. */
static inline int sp_exit_code(sp_status s)
{
    switch (s) {
    case SP_OK: return SP_EXIT_OK;
    case SP_EINVAL: return SP_EXIT_USAGE;
    case SP_EIO: return SP_EXIT_IO;
    case SP_EDICOM: return SP_EXIT_NO_SERIES;
    case SP_EUNSUPPORTED: return SP_EXIT_UNSUPPORTED;
    case SP_ENOMEM: return SP_EXIT_NOMEM;
    case SP_EITK:
    case SP_EINTERNAL: return SP_EXIT_INTERNAL;
    }
    return SP_EXIT_INTERNAL;
}

#endif
