/* What run.json records about the machine and the libraries a run used, so that a result can be
 * traced to its environment: OS, CPU model, compiler, and the versions of libvips, OpenBLAS and
 * libjpeg-turbo (through libvips); and input paths made absolute. */
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <cblas.h>
#include <vips/vips.h>
#if defined(__has_include)
#if __has_include(<jconfig.h>)
#include <jconfig.h>   /* only the version macros: the library does not call libjpeg itself */
#endif
#endif

#include "src/run/run_int.h"
#include "skindelta/util.h"

/* The first line of FILE starting with key, its value after ':' or '=' (quotes removed). */
static int file_value(const char *file, const char *key, char *out, size_t n)
{
    FILE *f = fopen(file, "r");
    char line[512];
    const size_t k = strlen(key);
    int found = 0;
    while (f && !found && fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, k)) continue;
        char *v = line + k;
        while (*v == ' ' || *v == '\t') v++;
        if (*v != ':' && *v != '=') continue;
        v++;
        while (*v == ' ' || *v == '"') v++;
        size_t len = strcspn(v, "\"\n");
        snprintf(out, n, "%.*s", (int)len, v);
        found = 1;
    }
    if (f) fclose(f);
    return found;
}

/* The file the dynamic loader mapped for a library whose name contains `part` (realpath). */
typedef struct Loaded { const char *part; char path[PATH_MAX]; } Loaded;

static int find_loaded(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    Loaded *l = data;
    if (!info->dlpi_name || !strstr(info->dlpi_name, l->part)) return 0;
    if (!realpath(info->dlpi_name, l->path)) snprintf(l->path, sizeof(l->path), "%s", info->dlpi_name);
    return 1;
}

static void kv(FILE *f, const char *key, const char *value, int comma)
{
    fprintf(f, "    \"%s\": ", key);
    if (value && *value) sd_json_string(f, value);
    else fputs("null", f);
    fputs(comma ? ",\n" : "\n", f);
}

void sd__run_provenance_json(FILE *f)
{
    struct utsname u;
    char os[1024] = "", buf[512] = "", jpeg[32] = "";
    if (uname(&u) == 0)
        snprintf(os, sizeof(os), "%s %s %s %s", u.sysname, u.release, u.version, u.machine);
    fputs("  \"environment\": {\n", f);
    kv(f, "os", os, 1);
    kv(f, "os_release", file_value("/etc/os-release", "PRETTY_NAME", buf, sizeof(buf)) ? buf : NULL, 1);
    kv(f, "cpu_model", file_value("/proc/cpuinfo", "model name", buf, sizeof(buf)) ? buf : NULL, 1);
#if defined(__clang__)
    kv(f, "compiler", "clang " __clang_version__, 1);
#elif defined(__GNUC__)
    kv(f, "compiler", "gcc " __VERSION__, 1);
#else
    kv(f, "compiler", NULL, 1);
#endif
    kv(f, "libvips", vips_version_string(), 1);
    kv(f, "openblas", openblas_get_config(), 1);
#ifdef LIBJPEG_TURBO_VERSION_NUMBER
    snprintf(jpeg, sizeof(jpeg), "%d.%d.%d", LIBJPEG_TURBO_VERSION_NUMBER / 1000000,
             LIBJPEG_TURBO_VERSION_NUMBER / 1000 % 1000, LIBJPEG_TURBO_VERSION_NUMBER % 1000);
#endif
    kv(f, "libjpeg_turbo_headers", jpeg, 1);   /* the version built against */
    Loaded l = { "libjpeg.so", "" };
    dl_iterate_phdr(find_loaded, &l);
    kv(f, "libjpeg_loaded", l.path, 0);         /* the file libvips decodes JPEG with */
    fputs("  },\n", f);
}

void sd__run_json_abspath(FILE *f, const char *key, const char *path)
{
    char *abs = path && *path ? realpath(path, NULL) : NULL;
    fprintf(f, "\"%s\": ", key);
    if (abs) sd_json_string(f, abs);
    else fputs("null", f);
    free(abs);
}
