/* The library's one pool of worker threads (the batch runner's patients, the report's images):
 * start n threads on one function, join them. Work is handed out by the callers. */
#include <pthread.h>
#include <unistd.h>

#include "src/core/core.h"

int sd__pool_start(SdPool *p, int n, size_t stack_bytes, void *(*fn)(void *), void *arg)
{
    p->started = 0;
    if (n > SD_POOL_MAX) n = SD_POOL_MAX;
    for (int i = 0; i < n; i++) {
        pthread_attr_t at;
        if (pthread_attr_init(&at)) break;
        if (stack_bytes) pthread_attr_setstacksize(&at, stack_bytes);
        if (pthread_create(&p->th[p->started], &at, fn, arg) == 0) p->started++;
        pthread_attr_destroy(&at);
    }
    return p->started;
}

void sd__pool_join(SdPool *p)
{
    for (int i = 0; i < p->started; i++) pthread_join(p->th[i], NULL);
    p->started = 0;
}

int sd__pool_threads(int jobs, int n, int max)
{
    int t = jobs > 0 ? jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (t < 1) t = 1;
    if (t > n) t = n > 0 ? n : 1;
    if (t > max) t = max;
    return t;
}
