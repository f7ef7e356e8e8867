/* status.c - sp_status names and sp_fail(). */
#include "sp_status.h"

#include <stdarg.h>
#include <stdio.h>

const char *sp_status_str(sp_status s)
{
    switch (s) {
    case SP_OK: return "ok";
    case SP_ENOMEM: return "out of memory";
    case SP_EINVAL: return "invalid argument";
    case SP_EIO: return "i/o error";
    case SP_EDICOM: return "dicom error";
    case SP_EITK: return "itk error";
    case SP_EUNSUPPORTED: return "unsupported";
    case SP_EINTERNAL: return "internal error";
    }
    return "unknown status";
}

sp_status sp_fail(sp_err *err, sp_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void sp_err_clear(sp_err *err)
{
    if (err) {
        err->code = SP_OK;
        err->msg[0] = '\0';
    }
}
