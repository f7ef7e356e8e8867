/* sp_omp.h - the one place for OpenMP policy (darktable style).
 *
 * SP_OMP(...) expands to a _Pragma("omp ...") when built with OpenMP and to
 * nothing otherwise, so the project builds and tests with -DSP_OPENMP=OFF.
 * Rules (docs/conventions.md): outermost loop only, schedule(static) by
 * default, default(none), an if(n > SP_OMP_MIN_VOXELS) clause, a comment on
 * every pragma saying what each iteration writes, no float reductions. */
#ifndef SP_OMP_H
#define SP_OMP_H

#ifdef _OPENMP
#include <omp.h>
#define SP_OMP_STR(x) _Pragma(#x)
#define SP_OMP(...) SP_OMP_STR(omp __VA_ARGS__)
static inline int sp_omp_max_threads(void) { return omp_get_max_threads(); }
static inline int sp_omp_thread_num(void) { return omp_get_thread_num(); }
static inline void sp_omp_set_threads(int n) { if (n > 0) omp_set_num_threads(n); }
#else
#define SP_OMP(...)
static inline int sp_omp_max_threads(void) { return 1; }
static inline int sp_omp_thread_num(void) { return 0; }
static inline void sp_omp_set_threads(int n) { (void)n; }
#endif

/* Below this many voxels a kernel runs serially: thread start-up costs more. */
#define SP_OMP_MIN_VOXELS 32768

#endif
