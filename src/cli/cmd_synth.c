/* `skindelta synth`: phantom courses with known ground truth (src/synth.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli/cli.h"
#include "synth/synth.h"

static const SdCmdSpec spec = {
    "synth",
    "-o DIR [--kind patch|face] [--patients N] [--sessions K] [--seed S] [options]",
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
    "Deterministic for a seed.\n",
    "\nexit: 0 written, 1 a write or render failed, 2 usage error\n",
};

static int parse_effect_scale(const char *v, void *dst)
{
    SdSynthCourse *c = dst;
    char *end;
    const double d = strtod(v, &end);
    if (!*v || *end || !(d >= 0 && d <= 1)) return -1;
    c->effect_scale = d;
    c->effect_scale_set = 1;
    return 0;
}

static int parse_bad_capture(const char *v, void *dst)
{
    SdSynthCourse *c = dst;
    int p = 0, s = 0;
    char extra;
    if (sscanf(v, "%d:%d%c", &p, &s, &extra) != 2 || p < 1 || s < 1) return -1;
    c->bad_patient = p;
    c->bad_session = s;
    return 0;
}

int sd_cmd_synth(int argc, char **argv)
{
    SdSynthCourse c = { .kind = SD_SYNTH_PATCH, .patients = 3, .sessions = 3, .seed = 1 };
    const char *out = NULL;
    int kind = 0;
    long seed = 1;
    double rot = -1;
    const SdOpt opts[] = {
        SD_OPT_OUT(&out, "DIR", "output folder (created)"),
        { "kind", 0, SD_ARG_CHOICE, NULL, "patch (default) or face", &kind, .choices = "patch|face" },
        { "patients", 0, SD_ARG_INT, "N", "patients, 1..9999 (default 3)", &c.patients, .lo = 1, .hi = 9999 },
        { "sessions", 0, SD_ARG_INT, "K", "sessions per patient, 1..999 (default 3)", &c.sessions, .lo = 1, .hi = 999 },
        { "seed", 0, SD_ARG_LONG, "S", "random seed, 0..2147483647 (default 1)", &seed, .lo = 0, .hi = 2147483647.0 },
        { "size", 0, SD_ARG_INT, "PX", "image side (patch, default 1024) or longest side (face, default\n"
          "2000), 64..8192", &c.size, .lo = 64, .hi = 8192 },
        { "px-per-mm", 0, SD_ARG_DOUBLE, "X", "physical scale of the phantom, 2..100 (default 10)", &c.px_per_mm,
          .lo = 2, .hi = 100 },
        { "rot-max", 0, SD_ARG_DOUBLE, "DEG", "pose rotation range +-DEG, 0..30 (default 5)", &rot, .lo = 0, .hi = 30 },
        { "effect-scale", 0, SD_ARG_FN, "X", "every responder strength times X, 0..1 (default 1; 0 = a null\n"
          "course: capture nuisance only, for false-positive rates)", &c,
          .parse = parse_effect_scale, .expect = "a number in 0..1" },
        { "capture", 0, SD_ARG_CHOICE, NULL, "random (default: every session its own camera settings) or\n"
          "consistent (one setting for the course, as a careful clinic)", &c.consistent,
          .choices = "random|consistent" },
        { "bad-capture", 0, SD_ARG_FN, "P:S", "make patient P's session S (1-based) a bad capture: JPEG\n"
          "q70, overexposed with a red cast, noisy (to show what QC catches)", &c,
          .parse = parse_bad_capture, .expect = "PATIENT:SESSION, 1-based" },
        SD_OPT_STR("face", 0, "IMG", "face kind: the base portrait", &c.face_path),
        { "plain", 0, SD_ARG_FLAG, NULL, "face kind: no hair strands and no nasolabial folds (by default\n"
          "even-numbered patients wear moving hair, odd-numbered ones folds)", &c.plain, .ival = 1 },
    };
    int npos = 0;
    const int rc = sd_cli_parse(&spec, opts, SD_NOPTS(opts), argc, argv, NULL, 0, &npos);
    if (rc != SD_CLI_CONTINUE) return rc;
    c.kind = kind ? SD_SYNTH_FACE : SD_SYNTH_PATCH;
    c.seed = (uint64_t)seed;
    if (rot >= 0) c.rot_max_deg = rot > 0 ? rot : 1e-9;
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
