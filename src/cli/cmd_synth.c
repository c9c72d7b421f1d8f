/* `skindelta synth`: phantom courses with known ground truth (src/synth.h). */
#include <stdio.h>
#include <string.h>

#include "src/cli/cli.h"
#include "synth/synth.h"

static void help(FILE *f)
{
    fprintf(f,
        "usage: skindelta synth -o DIR [--kind patch|face] [--patients N] [--sessions K] [--seed S]\n"
        "                       [--size PX] [--px-per-mm X] [--rot-max DEG] [--effect-scale X]\n"
        "                       [--capture random|consistent] [--bad-capture P:S] [--face IMG]\n\n"
        "Writes phantom photo courses with known ground truth:\n"
        "  DIR/<patient>/<session>/front.jpg   patients p001.., sessions s1..sK (s1 = baseline)\n"
        "  DIR/truth.json                      every effect and nuisance parameter per session\n"
        "Patch kind: procedural skin (melanin, haemoglobin, 1/f relief, pores, wrinkles as curved\n"
        "Gaussian grooves with directional shading, pigment spots as soft melanin blobs). Each\n"
        "patient responds with strength r; each session has its own capture nuisance (pose, gain,\n"
        "white balance, gamma, noise, JPEG quality). Score it with `skindelta run DIR --roi whole`.\n"
        "Face kind: a real portrait (default samples/faces/astronaut.png, public domain) upscaled,\n"
        "the same procedural detail multiplied into its skin (landmarks + the regions stage's skin\n"
        "mask), wrinkles only on the forehead and crow's feet; px/mm from a 63 mm IOD.\n"
        "Deterministic for a seed.\n\n"
        "options:\n"
        "  -o DIR          output folder (created)\n"
        "  --kind K        patch (default) or face\n"
        "  --patients N    default 3\n"
        "  --sessions K    default 3\n"
        "  --seed S        default 1\n"
        "  --size PX       image side (patch, default 1024) or longest side (face, default 2000)\n"
        "  --px-per-mm X   physical scale of the phantom (default 10)\n"
        "  --rot-max DEG   pose rotation range +-DEG (default 5)\n"
        "  --effect-scale X  every responder strength times X, 0..1 (default 1; 0 = a null\n"
        "                  course: capture nuisance only, for false-positive rates)\n"
        "  --capture C     random (default: every session its own camera settings) or\n"
        "                  consistent (one setting for the course, as a careful clinic)\n"
        "  --bad-capture P:S  make patient P's session S (1-based) a bad capture: JPEG q70,\n"
        "                  overexposed with a red cast, noisy (to show what QC catches)\n"
        "  --face IMG      face kind: the base portrait\n"
        "  -h, --help      this text\n"
        "exit: 0 written, 1 a write or render failed, 2 usage error\n");
}

int sd_cmd_synth(int argc, char **argv)
{
    SdSynthCourse c = { .kind = SD_SYNTH_PATCH, .patients = 3, .sessions = 3, .seed = 1 };
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long v;
        double d;
        if (sd_cli_is_help(a)) { help(stdout); return SD_EXIT_OK; }
        if (i + 1 >= argc && a[0] == '-')
            return sd_cli_usage_error("synth", "option '%s' needs a value", a);
        if (!strcmp(a, "-o")) out = argv[++i];
        else if (!strcmp(a, "--kind")) {
            const char *k = argv[++i];
            if (!strcmp(k, "patch")) c.kind = SD_SYNTH_PATCH;
            else if (!strcmp(k, "face")) c.kind = SD_SYNTH_FACE;
            else return sd_cli_usage_error("synth", "unknown kind '%s' (patch|face)", k);
        } else if (!strcmp(a, "--patients")) {
            if (sd_cli_parse_int(argv[++i], 1, 9999, &v)) return sd_cli_usage_error("synth", "bad --patients");
            c.patients = (int)v;
        } else if (!strcmp(a, "--sessions")) {
            if (sd_cli_parse_int(argv[++i], 1, 999, &v)) return sd_cli_usage_error("synth", "bad --sessions");
            c.sessions = (int)v;
        } else if (!strcmp(a, "--seed")) {
            if (sd_cli_parse_int(argv[++i], 0, 2147483647L, &v)) return sd_cli_usage_error("synth", "bad --seed");
            c.seed = (uint64_t)v;
        } else if (!strcmp(a, "--size")) {
            if (sd_cli_parse_int(argv[++i], 64, 8192, &v)) return sd_cli_usage_error("synth", "bad --size (64..8192)");
            c.size = (int)v;
        } else if (!strcmp(a, "--px-per-mm")) {
            if (sd_cli_parse_double(argv[++i], &d) || !(d >= 2 && d <= 100))
                return sd_cli_usage_error("synth", "bad --px-per-mm (2..100)");
            c.px_per_mm = d;
        } else if (!strcmp(a, "--rot-max")) {
            if (sd_cli_parse_double(argv[++i], &d) || !(d >= 0 && d <= 30))
                return sd_cli_usage_error("synth", "bad --rot-max (0..30)");
            c.rot_max_deg = d > 0 ? d : 1e-9;
        } else if (!strcmp(a, "--effect-scale")) {
            if (sd_cli_parse_double(argv[++i], &d) || !(d >= 0 && d <= 1))
                return sd_cli_usage_error("synth", "bad --effect-scale (0..1)");
            c.effect_scale = d;
            c.effect_scale_set = 1;
        } else if (!strcmp(a, "--capture")) {
            const char *k = argv[++i];
            if (!strcmp(k, "consistent")) c.consistent = 1;
            else if (!strcmp(k, "random")) c.consistent = 0;
            else return sd_cli_usage_error("synth", "unknown --capture '%s' (random|consistent)", k);
        } else if (!strcmp(a, "--bad-capture")) {
            int bp = 0, bs = 0;
            if (sscanf(argv[++i], "%d:%d", &bp, &bs) != 2 || bp < 1 || bs < 1)
                return sd_cli_usage_error("synth", "bad --bad-capture (PATIENT:SESSION, 1-based)");
            c.bad_patient = bp;
            c.bad_session = bs;
        } else if (!strcmp(a, "--face")) {
            c.face_path = argv[++i];
        } else return sd_cli_usage_error("synth", "unknown option '%s'", a);
    }
    if (!out)
        return sd_cli_usage_error("synth", "-o DIR is required");
    SdCtx ctx;
    if (sd_cli_setup(&ctx, NULL)) return SD_EXIT_USAGE;
    int err = sd_synth_course(&ctx, &c, out);
    if (err) {
        fprintf(stderr, "skindelta synth: %s\n", ctx.errmsg[0] ? ctx.errmsg : sd_strerror(err));
        return SD_EXIT_PARTIAL;
    }
    printf("wrote %d patient(s) x %d session(s) to %s (truth.json)\n", c.patients, c.sessions, out);
    return SD_EXIT_OK;
}
