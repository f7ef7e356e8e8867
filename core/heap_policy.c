/* heap_policy.c - keeps freed volume-sized buffers in the process for reuse.
 *
 * Every stage allocates and frees whole-volume scratch (label copies, masks,
 * queues: 150-650 MB each on a 512x512x608 series). glibc serves blocks that
 * large with a fresh mmap and unmaps them on free, so each new buffer is
 * faulted in and zeroed by the kernel page by page: 30 % of `analyze`'s time
 * on the 2-core development VM (perf). Serving every block from the heap and
 * never trimming it lets a freed buffer be reused without new page faults
 * (full-size phantom, dev VM: the segment stage 13.2 -> 7.0 s at 1 thread),
 * for a higher peak RSS, since a freed block is kept rather than returned
 * (1.21 -> 1.43 GB alone; with the arch growth's box in segment/instances.c
 * the net peak fell to 1.02 GB). On the lent 16-core machine page faults cost
 * far less and the gain is small (docs/benchmarks.md, session 11). Each study
 * of a batch runs in its own process, so nothing accumulates. */
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
