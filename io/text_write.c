/* text_write.c - write a text document (JSON, CSV) to a file, reporting errors. */
#include "sp_io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

sp_status sp_io_write_text(const char *path, const char *text, sp_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f) return sp_fail(err, SP_EIO, "%s: cannot write (%s)", path, strerror(errno));
    if (fputs(text, f) == EOF || fputc('\n', f) == EOF) {
        fclose(f);
        return sp_fail(err, SP_EIO, "%s: write failed (%s)", path, strerror(errno));
    }
    if (fclose(f) != 0) return sp_fail(err, SP_EIO, "%s: write failed (%s)", path, strerror(errno));
    return SP_OK;
}
