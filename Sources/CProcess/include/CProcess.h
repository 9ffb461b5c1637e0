// Shims over Linux process and thread control for Swift: `prctl` is variadic, so Swift cannot
// import it, and Swift's Glibc module does not bring in <malloc.h>. No logic lives here.
#ifndef SLUICE_CPROCESS_H
#define SLUICE_CPROCESS_H

#ifdef __linux__
#include <sys/prctl.h>

/// prctl(PR_SET_PDEATHSIG, signal): the kernel sends `signal` to the calling thread's
/// process when the thread that created the process exits (the parent process dying is
/// the usual case). Kept across execve; 0, or -1 with errno.
static inline int sluice_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
}

/// prctl(PR_SET_NAME, name): names the calling thread (the kernel keeps 15 bytes); 0, or
/// -1 with errno.
static inline int sluice_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}

#include <malloc.h>

/// malloc_trim(0): gives the free pages of every malloc arena back to the kernel; 1 if
/// any memory was released.
static inline int sluice_malloc_trim(void) { return malloc_trim(0); }

/// mallopt(M_MMAP_THRESHOLD or M_TRIM_THRESHOLD, value) (named here, as Swift does not see
/// <malloc.h>'s); 1 on success, 0 if glibc refused it.
static inline int sluice_malloc_set_mmap_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }
static inline int sluice_malloc_set_trim_threshold(int bytes) { return mallopt(M_TRIM_THRESHOLD, bytes); }
#else
static inline int sluice_set_parent_death_signal(int signal) { (void)signal; return -1; }
static inline int sluice_set_thread_name(const char *name) { (void)name; return -1; }
static inline int sluice_malloc_trim(void) { return 0; }
static inline int sluice_malloc_set_mmap_threshold(int bytes) { (void)bytes; return 0; }
static inline int sluice_malloc_set_trim_threshold(int bytes) { (void)bytes; return 0; }
#endif

#endif
