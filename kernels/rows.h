/* Row addressing shared by every kernel file: strides are in bytes (STYLE.md). */
#ifndef KERNELS_ROWS_H
#define KERNELS_ROWS_H

#include <stddef.h>

#define ROW(T, p, stride, y) ((T *)((char *)(p) + (ptrdiff_t)(y) * (stride)))
#define CROW(T, p, stride, y) ((const T *)((const char *)(p) + (ptrdiff_t)(y) * (stride)))

#endif
