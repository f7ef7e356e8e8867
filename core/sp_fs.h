/* sp_fs.h - small file-system helpers shared by the commands. */
#ifndef SP_FS_H
#define SP_FS_H

#include "sp_status.h"

/* Creates folder path and any missing parents (as `mkdir -p`); an existing
 * folder is fine. SP_EIO naming the part that could not be made. */
sp_status sp_mkdir_p(const char *path, sp_err *err);

#endif
