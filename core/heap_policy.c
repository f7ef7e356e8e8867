/* heap_policy.c - keeps freed volume-sized buffers in the process for reuse.
 *
 * Every stage allocates and frees whole-volume scratch (a float distance per
 * voxel, label copies, masks: 150-650 MB each on a 512x512x608 series).
 * glibc serves blocks that large with a fresh mmap and unmaps them on free, so
 * each new buffer is faulted in and zeroed by the kernel page by page. On
 * the virtual machines measured (the 2-core development VM and the lent
 * 16-core machine) that was 30 % of `analyze`'s time, and the faults, which
 * serialise on the address space, kept extra threads from helping.
 * Serving every block from the heap and never trimming it lets a freed buffer
 * be reused without new page faults (analyze on the full-size phantom: the
 * segment stage 13.2 -> 7.0 s at 1 thread on the dev VM) for a higher peak
 * RSS (1.21 -> 1.43 GB), since a freed block is kept rather than returned.
 * Each study of a batch runs in its own process, so nothing accumulates. */
#include "sp_heap_policy.h"

#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

void sp_heap_policy_reuse(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_MAX, 0);              /* large blocks from the heap too */
    mallopt(M_TRIM_THRESHOLD, INT_MAX); /* and kept there once freed */
#endif
}
