/* fs.c - file-system helpers (sp_fs.h). */
#include "sp_fs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

sp_status sp_mkdir_p(const char *path, sp_err *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return sp_fail(err, SP_EIO, "%s: not a usable folder name", path);
    memcpy(buf, path, n + 1);
    /* each parent in turn, then the folder itself */
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        struct stat sb;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return sp_fail(err, SP_EIO, "%s: cannot create (%s)", buf, strerror(errno));
        if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return sp_fail(err, SP_EIO, "%s: exists and is not a folder", buf);
        buf[i] = c;
    }
    return SP_OK;
}
