/* sp_heap_policy.h - process-wide allocator policy (see heap_policy.c). */
#ifndef SP_HEAP_POLICY_H
#define SP_HEAP_POLICY_H

/* Call once at start-up, before any large allocation: freed volume-sized
 * buffers stay in the process and are reused without new page faults. */
void sp_heap_policy_reuse(void);

#endif
