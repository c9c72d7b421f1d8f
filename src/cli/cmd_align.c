/* `skindelta align BEFORE AFTER -o OUT`: both photos in the canonical frame (AFTER registered onto
 * BEFORE, each original resampled once), photometry from reference areas, regions, QC; writes the
 * aligned images' JPEG previews (lossless PNGs on request), side-by-side, blink page, difference
 * image, the regions' overlay mask and alignment.csv. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli/cli.h"
#include "skindelta/align.h"
#include "skindelta/face.h"
#include "skindelta/photometry.h"
#include "skindelta/regions.h"
#include "skindelta/util.h"

static const SdCmdSpec spec = {
    "align",
    "BEFORE AFTER -o OUT [options]",
    "Puts BEFORE into the canonical face frame (similarity from the 68 landmarks: eye centres\n"
    "fixed, IOD 640 px, frame 1600x2000) and registers AFTER onto it (landmark start, then\n"
    "masked coarse-to-fine ECC on band-passed luminance); each photo is resampled once.\n\n"
    "writes OUT/before.jpg, OUT/after.jpg (JPEG previews, q85; the lossless OUT/before.png and\n"
    "OUT/after.png with --save-aligned), OUT/side_by_side.jpg, OUT/blink.html,\n"
    "OUT/difference.jpg, OUT/regions.png (the regions as an overlay mask of the frame's size:\n"
    "an indexed PNG whose palette carries colour and opacity, to lay over before.jpg) and\n"
    "OUT/alignment.csv.\n",
    "\nQC status: failed when ecc < ecc-fail, landmark RMS > lm-fail x IOD or overlap <\n"
    "overlap-fail; warn on the *-warn values; ok otherwise.\n"
    "exit: 0 aligned (ok or warn), 1 failed (no face, unreadable, QC failed), 2 usage error\n",
};

/* Load path into the canonical frame: landmarks on a shrunk copy, then the photo decoded at the
 * smallest scale that still holds the canonical detail (JPEG shrink-on-load). */
static int load_photo(SdCtx *ctx, const char *path, int whole, const SdAlignOpts *ao,
                      SdImage *img, SdLandmarks *lm, double scale[2])
{
    SdLoadOpts lo;
    sd_load_opts_default(&lo);
    SdImageInfo info;
    int err, nf = 0;
    if (!whole) {
        if ((err = sd_face_find_file(ctx, path, NULL, lm, &nf, &info))) return err;
        lo.scale = sd_align_load_scale(lm, ao);
    }
    if ((err = sd_image_load(ctx, path, &lo, img, &info))) return err;
    scale[0] = (double)img->w / info.orig_w;
    scale[1] = (double)img->h / info.orig_h;
    if (!whole && (img->w != info.orig_w || img->h != info.orig_h))
        sd_face_landmarks_rescale(lm, scale[0], scale[1]);
    return 0;
}

/* Transforms are reported from the ORIGINAL photo's pixels (each photo may have been decoded
 * smaller): T o S, S the pixel-centre-aligned shrink x' = (x + 0.5) s - 0.5. */
static int write_csv(const char *path, const char *names[2], const SdAligned *a[2],
                     const double scale[2][2], const SdAlignQC *qc, const SdPhotometry *ph)
{
    SdAtomicFile af;
    if (sd_atomic_open(&af, path)) return SD_EIO;
    FILE *f = af.f;
    fprintf(f, "patient,view,session,face_score,landmark_rms_px,ecc,a11,a12,tx,a21,a22,ty,status,"
               "overlap,iterations,px_per_mm,photometry,reason\n");
    for (int i = 0; i < 2; i++) {
        fputs(",,", f);
        sd_csv_field(f, names[i]);
        fputc(',', f);
        if (a[i]->has_lm) sd_csv_num(f, a[i]->lm.face.score);
        fputc(',', f);
        if (i) sd_csv_num(f, qc->lm_rms_px);
        fputc(',', f);
        if (i) sd_csv_num(f, qc->ecc);
        const SdTransform S = {{ scale[i][0], 0, 0.5 * scale[i][0] - 0.5, 0, scale[i][1],
                                 0.5 * scale[i][1] - 0.5, 0, 0, 1 }};
        SdTransform TS;
        sd_transform_mul(&a[i]->T, &S, &TS);
        for (int k = 0; k < 6; k++) {
            fputc(',', f);
            sd_csv_num(f, TS.m[k]);
        }
        fprintf(f, ",%s,", i ? sd_align_status_name(qc->status) : "ok");
        if (i) sd_csv_num(f, qc->overlap);
        fputc(',', f);
        if (i) fprintf(f, "%d", qc->iterations);
        fputc(',', f);
        sd_csv_num(f, a[i]->px_per_mm);
        fputc(',', f);
        sd_csv_field(f, i ? ph->summary : "baseline");
        fputc(',', f);
        sd_csv_field(f, i ? qc->reason : "");
        fputc('\n', f);
    }
    return sd_atomic_commit(&af);
}

/* The previews' JPEG quality, as run's aligned/ previews. */
#define PREVIEW_Q 85

static int write_blink(const char *path)
{
    static const char html[] =
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>skindelta blink</title>\n"
        "<style>body{background:#222;color:#ddd;font:14px sans-serif;margin:1em}"
        ".b{position:relative;display:inline-block}.b img{max-height:90vh;display:block}"
        ".b img.a{position:absolute;left:0;top:0;animation:k 1.6s steps(1) infinite}"
        "@keyframes k{0%{opacity:0}50%{opacity:1}}"
        ".b:hover img.a{animation:none;opacity:1}</style></head><body>\n"
        "<p>before / after in the canonical frame, alternating every 0.8 s (hover: after)</p>\n"
        "<div class=\"b\"><img src=\"before.jpg\" alt=\"before\"><img class=\"a\" src=\"after.jpg\" "
        "alt=\"after\"></div></body></html>\n";
    return sd_write_file_atomic(path, html, sizeof(html) - 1);
}

/* Side by side, and the luminance difference (after - before) x 4 around mid grey, black outside
 * the common valid area. */
static int write_composites(SdCtx *ctx, const char *out, const SdAligned *b, const SdAligned *a)
{
    const int w = b->img.w, h = b->img.h;
    SdImage sbs = {0}, diff = {0};
    int err = sd_image_create(&sbs, 2 * w, h, 3, SD_FMT_F32);
    if (!err) err = sd_image_create(&diff, w, h, 1, SD_FMT_F32);
    if (err) goto fail;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < h; y++) {
            float *o = sd_image_rowf(&sbs, c, y);
            memcpy(o, sd_image_rowf(&b->img, c, y), sizeof(float) * w);
            memcpy(o + w, sd_image_rowf(&a->img, c, y), sizeof(float) * w);
        }
    for (int y = 0; y < h; y++) {
        float *o = sd_image_rowf(&diff, 0, y);
        const uint8_t *vb = b->valid.data + (size_t)y * b->valid.stride, *va = a->valid.data + (size_t)y * a->valid.stride;
        for (int x = 0; x < w; x++) {
            float lb = 0, la = 0;
            static const float wt[3] = { 0.2126f, 0.7152f, 0.0722f };
            for (int c = 0; c < 3; c++) {
                lb += wt[c] * sd_image_rowf(&b->img, c, y)[x];
                la += wt[c] * sd_image_rowf(&a->img, c, y)[x];
            }
            o[x] = vb[x] && va[x] ? 0.5f + 4.0f * (la - lb) : 0.0f;
        }
    }
    char *p = sd_path_join(out, "side_by_side.jpg");
    err = p ? sd_image_save(ctx, &sbs, p, PREVIEW_Q) : SD_ENOMEM;
    free(p);
    if (!err) {
        p = sd_path_join(out, "difference.jpg");
        err = p ? sd_image_save(ctx, &diff, p, PREVIEW_Q) : SD_ENOMEM;
        free(p);
    }
fail:
    sd_image_free(&sbs);
    sd_image_free(&diff);
    return err;
}

typedef struct ChartArg {
    double r[4];
    int set;
} ChartArg;

static int parse_chart(const char *s, void *dst)
{
    ChartArg *c = dst;
    char extra;
    if (sscanf(s, "%lf,%lf,%lf,%lf%c", &c->r[0], &c->r[1], &c->r[2], &c->r[3], &extra) != 4 ||
        !(c->r[2] > 0) || !(c->r[3] > 0))
        return -1;
    c->set = 1;
    return 0;
}

/* A QC threshold: a number in [lo, hi] (lo excluded when open). */
#define QC_OPT(name, metavar, help, dst, lo_, hi_, open) \
    { (name), 0, SD_ARG_DOUBLE, (metavar), (help), (dst), .lo = (lo_), .hi = (hi_), .lo_open = (open) }

typedef struct AlignArgs {
    const char *in[2], *out, *cpu;
    int save_aligned;
    SdAlignOpts ao;
    SdPhotoOpts po;
} AlignArgs;

static int parse_align_args(int argc, char **argv, AlignArgs *a)
{
    const char *cmd = "align", *photo = "reference";
    SdAlignOpts *ao = &a->ao;
    sd_align_opts_default(ao);
    sd_photo_opts_default(&a->po);
    int motion = (int)ao->motion, nin = 0;
    ChartArg chart = {{0}, 0};
    const SdOpt opts[] = {
        SD_OPT_OUT(&a->out, "DIR", "output folder (created)"),
        SD_OPT_ROI(&ao->roi_whole, "whole: no face; the whole image, shift/rotation/scale found by\n"
                                   "log-polar phase correlation, region `whole` (default face)"),
        SD_OPT_MOTION(&motion),
        SD_OPT_IOD(&ao->iod_px),
        SD_OPT_PX_PER_MM(&ao->px_per_mm, "camera calibration in photo px per mm (default: IOD = 63 mm)"),
        SD_OPT_PHOTOMETRY(&photo, "none | reference | chart (default reference: sclera + background)"),
        { "chart", 0, SD_ARG_FN, "X,Y,W,H", "ColorChecker 24 rectangle in the canonical frame (with chart)",
          &chart, .parse = parse_chart, .expect = "X,Y,W,H with W, H > 0" },
        QC_OPT("ecc-warn", "R", "QC: warn below this ECC correlation, -1..1 (default 0.50)", &ao->ecc_warn, -1, 1, 0),
        QC_OPT("ecc-fail", "R", "QC: fail below this ECC correlation, -1..1 (default 0.20)", &ao->ecc_fail, -1, 1, 0),
        QC_OPT("overlap-warn", "F", "QC: warn below this skin overlap fraction, 0..1 (default 0.90)",
               &ao->overlap_warn, 0, 1, 0),
        QC_OPT("overlap-fail", "F", "QC: fail below this skin overlap fraction, 0..1 (default 0.60)",
               &ao->overlap_fail, 0, 1, 0),
        QC_OPT("lm-warn", "F", "QC: warn above this landmark RMS / IOD, > 0 (default 0.04)", &ao->lm_rms_warn, 0, 10, 1),
        QC_OPT("lm-fail", "F", "QC: fail above this landmark RMS / IOD, > 0 (default 0.10)", &ao->lm_rms_fail, 0, 10, 1),
        SD_OPT_FLAG("save-aligned", 0, "also write the aligned photos losslessly (OUT/before.png,\n"
                    "OUT/after.png, ~5 MB each)", &a->save_aligned, 1),
        SD_OPT_CPU(&a->cpu),
    };
    const int rc = sd_cli_parse(&spec, opts, SD_NOPTS(opts), argc, argv, a->in, 2, &nin);
    if (rc != SD_CLI_CONTINUE) return rc;
    if (nin != 2) return sd_cli_usage_error(cmd, "needs BEFORE and AFTER images");
    if (!a->out) return sd_cli_usage_error(cmd, "-o OUT is required");
    ao->motion = (SdMotion)motion;
    a->po.mode = (SdPhotoMode)sd_photo_mode_parse(photo);
    memcpy(a->po.chart, chart.r, sizeof(chart.r));
    if (a->po.mode == SD_PHOTO_CHART && !chart.set)
        return sd_cli_usage_error(cmd, "--photometry chart needs --chart X,Y,W,H");
    return SD_CLI_CONTINUE;
}

/* The aligned pair's previews (and lossless copies with --save-aligned), the regions' mask,
 * composites, blink page and alignment.csv into OUT. */
static int write_outputs(SdCtx *ctx, const AlignArgs *a, const SdAligned al[2], const double scale[2][2],
                         const SdAlignQC *qc, const SdPhotometry *ph, const SdRegions *rg)
{
    static const char *const files[2][2] = { { "before.jpg", "before.png" }, { "after.jpg", "after.png" } };
    int err = 0;
    for (int i = 0; i < 2 && !err; i++)
        for (int k = 0; k < 2 && !err; k++) {
            char *p = sd_path_join(a->out, files[i][k]);
            if (!p) err = SD_ENOMEM;
            else if (!k || a->save_aligned) err = sd_image_save(ctx, &al[i].img, p, k ? 0 : PREVIEW_Q);
            else (void)remove(p);   /* an earlier call's, with --save-aligned: not this pair's */
            free(p);
        }
    if (err) return err;
    char *p = sd_path_join(a->out, "regions.png");
    err = p ? sd_regions_overlay_mask(ctx, rg, p) : SD_ENOMEM;
    free(p);
    if (err || (err = write_composites(ctx, a->out, &al[0], &al[1]))) return err;
    p = sd_path_join(a->out, "blink.html");
    err = p ? write_blink(p) : SD_ENOMEM;
    free(p);
    if (err) {
        snprintf(ctx->errmsg, sizeof(ctx->errmsg), "%s/blink.html: cannot write", a->out);
        return err;
    }
    const char *names[2] = { a->in[0], a->in[1] };
    const SdAligned *ap[2] = { &al[0], &al[1] };
    p = sd_path_join(a->out, "alignment.csv");
    err = p ? write_csv(p, names, ap, scale, qc, ph) : SD_ENOMEM;
    free(p);
    if (err) snprintf(ctx->errmsg, sizeof(ctx->errmsg), "%s/alignment.csv: cannot write", a->out);
    return err;
}

static void print_result(const AlignArgs *a, double seconds, const SdAlignQC *qc, const SdPhotometry *ph,
                         const SdRegions *rg)
{
    printf("aligned %s -> %s in %.2f s: status %s%s%s%s, ecc %.4f, landmark RMS %.2f px, overlap %.3f, "
           "%d iterations over %d levels; photometry: %s\n",
           a->in[1], a->in[0], seconds, sd_align_status_name(qc->status), qc->reason[0] ? " (" : "",
           qc->reason[0] ? qc->reason : "", qc->reason[0] ? ")" : "", qc->ecc, qc->lm_rms_px, qc->overlap,
           qc->iterations, qc->levels, ph->summary);
    for (int r = 0; r < rg->n; r++)
        if (rg->warn[r])
            printf("warning: region %s is mostly masked out (%ld of %ld px)\n", rg->name[r], rg->area[r],
                   rg->poly_area[r]);
}

int sd_cmd_align(int argc, char **argv)
{
    AlignArgs a = { .out = NULL };
    int rc = parse_align_args(argc, argv, &a);
    if (rc != SD_CLI_CONTINUE) return rc;
    const SdAlignOpts *ao = &a.ao;
    SdCtx ctx;
    if (sd_cli_setup(&ctx, a.cpu)) return SD_EXIT_USAGE;
    SdImage photo = {0};
    SdLandmarks lm[2];
    double scale[2][2] = { { 1, 1 }, { 1, 1 } };
    SdAligned al[2];
    SdAlignQC qc;
    SdPhotometry ph;
    SdRegions rg;
    memset(al, 0, sizeof(al));
    memset(&rg, 0, sizeof(rg));
    memset(&qc, 0, sizeof(qc));
    int err;
    rc = SD_EXIT_PARTIAL;
    const double t0 = sd_now();
    if (sd_mkdir_p(a.out)) {
        fprintf(stderr, "skindelta align: %s: cannot create the output folder\n", a.out);
        return SD_EXIT_PARTIAL;
    }
    const char *stage = "load";   /* load_photo also finds the face: its errors say which */
    if ((err = load_photo(&ctx, a.in[0], ao->roi_whole, ao, &photo, &lm[0], scale[0])))
        goto fail;
    stage = "frame";
    if ((err = sd_align_canonical(&ctx, &photo, ao->roi_whole ? NULL : &lm[0], ao, &al[0])))
        goto fail;
    sd_image_free(&photo);
    stage = "load";
    if ((err = load_photo(&ctx, a.in[1], ao->roi_whole, ao, &photo, &lm[1], scale[1])))
        goto fail;
    stage = "register";
    if ((err = sd_align_followup(&ctx, &al[0], &photo, ao->roi_whole ? NULL : &lm[1], ao, &al[1], &qc)))
        goto fail;
    sd_image_free(&photo);
    stage = "photometry";
    if ((err = sd_photometry_correct(&ctx, &al[0], &al[1], &a.po, &ph))) goto fail;
    stage = "regions";
    if ((err = sd_regions_build(&ctx, &al[0], &al[1].valid, &rg))) goto fail;
    stage = "write";
    if ((err = write_outputs(&ctx, &a, al, (const double (*)[2])scale, &qc, &ph, &rg))) goto fail;
    print_result(&a, sd_now() - t0, &qc, &ph, &rg);
    rc = qc.status == SD_ALIGN_FAILED ? SD_EXIT_PARTIAL : SD_EXIT_OK;
    goto done;
fail:
    fprintf(stderr, "skindelta align: %s: %s: %s\n", stage, sd_strerror(err),
            ctx.errmsg[0] ? ctx.errmsg : "");
done:
    sd_image_free(&photo);
    sd_regions_free(&rg);
    sd_aligned_free(&al[0]);
    sd_aligned_free(&al[1]);
    return rc;
}
