// mc_available_cpus: the CPUs this process may run on (its affinity mask: `taskset -c 0` gives 1), which
// Foundation's activeProcessorCount does not look at.

#define _GNU_SOURCE
#include "ckernels.h"

#include <sched.h>
#include <unistd.h>

int mc_available_cpus(void) {
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
