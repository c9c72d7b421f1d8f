/* CPU feature detection and the level mask that every kernel family's init takes. */
#ifndef KERNELS_CPU_H
#define KERNELS_CPU_H

enum {
    SD_CPU_AVX2   = 1 << 0,   /* AVX2 + FMA3 + F16C, OS-enabled YMM state */
    SD_CPU_AVX512 = 1 << 1,   /* AVX-512 F/BW/VL/DQ, OS-enabled ZMM + opmask state */
};

/* Flags this CPU and OS support (CPUID + XGETBV), detected once. */
unsigned sd_cpu_detect(void);
/* Parse a level name ("scalar"|"c", "avx2", "avx512") into a mask of flags; -1 if unknown. */
int sd_cpu_parse_level(const char *name);
/* The highest level in flags, as a name. */
const char *sd_cpu_level_name(unsigned flags);

#endif
