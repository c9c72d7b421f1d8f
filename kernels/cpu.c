/* CPU feature detection: CPUID for what the core has, XGETBV for what the OS saves on a switch. */
#include <string.h>
#include "kernels/cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xgetbv0(void)
{
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

static unsigned detect(void)
{
    unsigned a, b, c, d, flags = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx)
        return 0;
    const unsigned long long xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6)          /* XMM + YMM state */
        return 0;
    if (__get_cpuid_max(0, NULL) < 7)
        return 0;
    __cpuid_count(7, 0, a, b, c, d);
    const int avx2 = (b >> 5) & 1;
    if (avx2 && fma && f16c)
        flags |= SD_CPU_AVX2;
    const int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    if ((flags & SD_CPU_AVX2) && f && dq && bw && vl && (xcr0 & 0xe6) == 0xe6)
        flags |= SD_CPU_AVX512;
    return flags;
}
#else
static unsigned detect(void) { return 0; }
#endif

unsigned sd_cpu_detect(void)
{
    static int done;
    static unsigned flags;
    if (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
        flags = detect();
        __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    }
    return flags;
}

int sd_cpu_parse_level(const char *name)
{
    if (!name) return -1;
    if (!strcmp(name, "scalar") || !strcmp(name, "c") || !strcmp(name, "C")) return 0;
    if (!strcmp(name, "avx2")) return SD_CPU_AVX2;
    if (!strcmp(name, "avx512")) return SD_CPU_AVX2 | SD_CPU_AVX512;
    return -1;
}

const char *sd_cpu_level_name(unsigned flags)
{
    if (flags & SD_CPU_AVX512) return "avx512";
    if (flags & SD_CPU_AVX2) return "avx2";
    return "scalar";
}
