/* One view of one patient in the batch run: the baseline goes into the canonical frame, each
 * follow-up is registered onto it, and every image is measured per region. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skindelta/face.h"
#include "src/run/run_int.h"
#include "src/run/noise_hook.h"
#include "src/core/core.h"

/* Measure every region of an aligned image: values[r][m]. */
int sd__run_measure(SdCtx *ctx, const SdAligned *al, const SdRegions *rg, const SdRunOpts *o,
                    double (*values)[SD_NMETRICS], SdMetricsState **keep)
{
    SdMetricsState *st = NULL;
    int err = sd_metrics_prepare(ctx, &al->img, sd_regions_metrics_valid(rg, al), al->px_per_mm, &o->metrics, &st);
    if (err) return err;
    for (int r = 0; r < rg->n && !err; r++)
        err = sd_metrics_region(ctx, st, &rg->mask[r], rg->name[r], values[r]);
    if (keep && !err) *keep = st;
    else sd_metrics_free(st);
    return err;
}

/* A follow-up's metrics on the pair's regions, each first restricted to the pixels both images'
 * maps measure (the erosion around either photo's hair and coverage), and the baseline's values
 * on those same pixels from its maps bst (paired, may be NULL: not wanted). */
int sd__run_measure_pair(SdCtx *ctx, const SdAligned *al, SdRegions *rg, const SdMetricsOpts *mo,
                         const SdMetricsState *bst, double (*values)[SD_NMETRICS],
                         double (*paired)[SD_NMETRICS], SdMetricsState **keep)
{
    SdMetricsState *st = NULL;
    int err = sd_metrics_prepare(ctx, &al->img, sd_regions_metrics_valid(rg, al), al->px_per_mm, mo, &st);
    if (err) return err;
    for (int r = 0; r < rg->n && !err; r++) {
        sd_metrics_restrict(st, &rg->mask[r]);
        sd_metrics_restrict(bst, &rg->mask[r]);
        err = sd_metrics_region(ctx, st, &rg->mask[r], rg->name[r], values[r]);
        if (!err && paired && bst)
            err = sd_metrics_region(ctx, bst, &rg->mask[r], rg->name[r], paired[r]);
    }
    if (keep && !err) *keep = st;
    else sd_metrics_free(st);
    return err;
}

/* Where the baseline's face was, for a follow-up with several faces. */
typedef struct FaceHint {
    SdFace box;      /* in the baseline photo as loaded */
    int w, h;        /* that photo's size */
} FaceHint;

/* Several faces in a photo: the face scored may be the wrong person's; say which one was taken. */
static void faces_note(char note[SD_NOTE_LEN], int nfaces, int followup)
{
    char msg[200];
    snprintf(msg, sizeof(msg), "%d faces in the photo: scored the %s", nfaces,
             followup ? "one at the baseline's face position and size" : "highest-scoring one");
    sd__run_note_add(note, SD_NOTE_LEN, msg);
}

/* Load + face for one entry; on failure a row in errors and a non-zero return. P gets the map
 * original photo px -> loaded photo px; note says when the photo had to be turned. */
static int load_and_find(SdCtx *ctx, const SdRunOpts *o, const SdCatEntry *e, SdPatientOut *po,
                         SdImage *photo, SdLandmarks *lm, SdTransform *P, char note[SD_NOTE_LEN],
                         SdCompression *comp, const FaceHint *like, int *nfaces, FaceHint *found)
{
    note[0] = 0;
    char hex[65] = "";
    SdImageInfo li;
    double tl = 0, tf = 0;
    SdPhotoFace pf = {.like = like ? &like->box : NULL, .like_w = like ? like->w : 0, .like_h = like ? like->h : 0};
    int err = sd__run_read_photo(ctx, e->path, o, photo, &li, hex, comp, &pf, &tl, &tf);
    const int *crop = pf.crop_xy;
    po->t[SD_ST_LOAD] += tl;
    po->t[SD_ST_FACE] += tf;
    if (hex[0]) {   /* the input's hash and its JPEG compression (empty when not a JPEG) */
        char q[16] = "";
        if (comp->jpeg_quality > 0)
            snprintf(q, sizeof(q), "%d", comp->jpeg_quality);
        sd_rowlist_addf(&po->inputs, "%s\x1f%s\x1f%s\x1f%s", e->path, hex, q, comp->chroma);
    }
    if (err) { sd__run_add_error(po, e->path, "load", err, ctx->errmsg); return err; }
    {
        /* (the origin of a cropped decode moves the photo's pixels by crop) */
        const double s = li.scale > 0 ? li.scale : 1.0, c = 0.5 * s - 0.5;
        const SdTransform S = {{s, 0, c - crop[0], 0, s, c - crop[1], 0, 0, 1}};
        *P = S;
    }
    *nfaces = 0;
    if (o->roi_whole) { sd_image_free(&pf.whole); return 0; }
    int picked = 0, fw, fh;
    if (pf.done) {   /* found where the photo was decoded */
        *lm = pf.lm;
        *nfaces = pf.nfaces;
        fw = pf.w;
        fh = pf.h;
    } else {
        const SdImage *fimg = pf.whole.data ? &pf.whole : photo;
        fw = fimg->w;
        fh = fimg->h;
        SD_TIMED(po, SD_ST_FACE, err = sd_face_find_like(ctx, fimg, &o->face, like ? &like->box : NULL,
                                                         like ? like->w : 0, like ? like->h : 0, lm,
                                                         nfaces, &picked));
    }
    if (found && !err) {   /* (in the whole photo's pixels, as the next sd_face_find_like wants) */
        found->box = lm->face;
        found->w = fw;
        found->h = fh;
    }
    sd_image_free(&pf.whole);
    if (!err && (crop[0] || crop[1])) {   /* into the crop's pixels */
        for (int k = 0; k < SD_NLANDMARKS; k++) {
            lm->pt[k].x -= (float)crop[0];
            lm->pt[k].y -= (float)crop[1];
        }
        lm->face.x -= (float)crop[0];
        lm->face.y -= (float)crop[1];
    }
    /* A photo turned sideways or upside down without an EXIF orientation tag: the detector is
     * not rotation invariant, so look at the three quarter turns before giving up. */
    for (int k = 1; k <= 3 && err == SD_ENOFACE; k++) {
        SdImage rot;
        SdTransform R;
        char keep[SD_ERRMSG_MAX];
        memcpy(keep, ctx->errmsg, sizeof(keep));
        if (sd__run_rotate_quarter(photo, k, &rot, &R)) break;
        SdLandmarks rl;
        int rn = 0;
        int rerr;
        SD_TIMED(po, SD_ST_FACE, rerr = sd_face_find(ctx, &rot, &o->face, &rl, &rn));
        *nfaces = rn;
        if (rerr == 0 && rl.face.score >= 0.7f) {
            sd_image_free(photo);
            *photo = rot;
            *lm = rl;
            SdTransform RP;
            sd_transform_mul(&R, P, &RP);
            *P = RP;
            snprintf(note, SD_NOTE_LEN, "photo turned %s to find the face (no EXIF orientation?)",
                     k == 1 ? "90 deg clockwise" : k == 2 ? "180 deg" : "90 deg counter-clockwise");
            fprintf(stderr, "skindelta: warning: %s: %s\n", e->path, note);
            err = 0;
            break;
        }
        sd_image_free(&rot);
        memcpy(ctx->errmsg, keep, sizeof(keep));
    }
    if (err) {
        sd__run_add_error(po, e->path, "face", err, ctx->errmsg);
        sd_image_free(photo);
        return err;
    }
    return 0;
}

/* The files of one aligned image under OUT/aligned/<patient>/: the photo's JPEG preview, the
 * region, wrinkle and spot masks (indexed PNG, frame size) and, with --save-aligned
 * (save_images 2), the aligned photo losslessly as PNG. */
static int save_images(SdCtx *ctx, const SdRunOpts *o, const SdCatEntry *e, const SdAligned *al,
                       const SdRegions *rg, const SdMetricsState *st, SdPatientOut *po)
{
    if (!o->save_images) return 0;
    char dir[4096], path[4400];
    snprintf(dir, sizeof(dir), "%s/aligned/%s", o->out_dir, e->patient);
    if (sd_mkdir_p(dir)) {
        sd__run_add_error(po, dir, "write", SD_EIO, "cannot create the folder for aligned images");
        po->write_errors++;
        return SD_EIO;
    }
    snprintf(path, sizeof(path), "%s/%s_%s.jpg", dir, e->view, e->session);
    int err = sd_image_save(ctx, &al->img, path, SD_RUN_PREVIEW_Q);
    snprintf(path, sizeof(path), "%s/%s_%s.png", dir, e->view, e->session);
    if (!err && o->save_images > 1)
        err = sd_image_save(ctx, &al->img, path, 0);
    else if (!err)
        unlink(path);   /* an earlier run's, with --save-aligned: not this run's photo */
    if (!err) {
        snprintf(path, sizeof(path), "%s/%s_%s_regions.png", dir, e->view, e->session);
        err = sd__run_regions_mask(ctx, rg, path);
    }
    if (!err && st) {
        char wp[4400], spp[4400];
        snprintf(wp, sizeof(wp), "%s/%s_%s_wrinkles.png", dir, e->view, e->session);
        snprintf(spp, sizeof(spp), "%s/%s_%s_spots.png", dir, e->view, e->session);
        err = sd__run_metrics_masks(ctx, st, &rg->mask[0], rg->name[0], wp, spp);
    }
    if (err) { sd__run_add_error(po, e->path, "write", err, ctx->errmsg); po->write_errors++; }
    return err;
}

/* ---- one view of one patient, as named steps */

/* The baseline of a view and what its follow-ups are scored against. */
typedef struct View {
    SdCtx *ctx;
    SdRunWorker *w;
    const SdRunOpts *o;
    SdPatientOut *po;
    const SdCatEntry *b;             /* the baseline entry */
    SdLandmarks lm;                  /* the baseline photo's landmarks */
    SdAligned base;                  /* the baseline in the canonical frame */
    SdRegions rg;                    /* its regions */
    double (*val)[SD_NMETRICS], (*sd)[SD_NMETRICS];   /* per region; reused by the follow-ups */
    double (*msd)[SD_NMETRICS];      /* the SDs written: the noise model's, widened by sd */
    SdNoiseImage bim;                /* what the noise model sees of the baseline */
    SdMetricsState *bst;             /* the baseline's metric state, kept for the change maps */
    int bguard;                      /* the colour guard emptied the baseline's colour metrics */
    SdTransform bP;                  /* original baseline photo px -> loaded px */
    char bnote[SD_NOTE_LEN];
    SdCompression bcomp;
    FaceHint hint;                   /* the baseline's face, for the follow-ups */
    int nfaces;                      /* faces in the baseline photo */
} View;

static void count_image(SdRunWorker *w, int failed)
{
    __atomic_add_fetch(failed ? &w->images_failed : &w->images_done, 1, __ATOMIC_RELAXED);
}

/* No session index 0: every entry gets an error row, nothing is scored. */
static void no_baseline(SdRunWorker *w, const SdCatEntry *ents, int n, SdPatientOut *po)
{
    for (int i = 0; i < n; i++) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s: no baseline image for patient %s view %s (session index 0 is missing); not scored",
                 ents[i].path, ents[i].patient, ents[i].view);
        sd__run_add_error(po, ents[i].path, "catalog", SD_EINVAL, msg);
        po->images++;
        count_image(w, 1);
    }
}

/* The baseline into the canonical frame, its regions, metrics and bootstrap SDs; *st gets the
 * metrics state for the overlays. Non-zero (with an error row) when it failed. */
static int score_baseline(View *v, SdMetricsState **st)
{
    SdCtx *ctx = v->ctx;
    const SdRunOpts *o = v->o;
    SdPatientOut *po = v->po;
    const SdCatEntry *b = v->b;
    SdImage photo = {0};
    int err;
    v->hint.w = v->hint.h = 0;
    if (load_and_find(ctx, o, b, po, &photo, &v->lm, &v->bP, v->bnote, &v->bcomp, NULL, &v->nfaces, &v->hint))
        return -1;
    if (!v->hint.w) {   /* (the photo was turned to find the face, or --roi whole) */
        v->hint.box = v->lm.face;
        v->hint.w = photo.w;
        v->hint.h = photo.h;
    }
    SD_TIMED(po, SD_ST_FRAME, err = sd_align_canonical(ctx, &photo, o->roi_whole ? NULL : &v->lm, &o->align, &v->base));
    if (err) { sd__run_add_error(po, b->path, "frame", err, ctx->errmsg); goto fail; }
    SD_TIMED(po, SD_ST_REGIONS, err = sd_regions_build(ctx, &v->base, NULL, &v->rg));
    if (err) { sd__run_add_error(po, b->path, "regions", err, ctx->errmsg); goto fail; }
    v->val = calloc((size_t)v->rg.n, sizeof(*v->val));
    v->sd = calloc((size_t)v->rg.n, sizeof(*v->sd));
    v->msd = calloc((size_t)v->rg.n, sizeof(*v->msd));
    if (!v->val || !v->sd || !v->msd) { err = SD_ENOMEM; sd__run_add_error(po, b->path, "metrics", SD_ENOMEM, "out of memory"); goto fail; }
    SD_TIMED(po, SD_ST_METRICS, err = sd__run_measure(ctx, &v->base, &v->rg, o, v->val, st));
    if (!err && o->bootstrap > 1)
        SD_TIMED(po, SD_ST_BOOTSTRAP, err = sd__run_bootstrap_sd(ctx, &photo, &v->base, NULL, &v->rg, o, &v->bcomp,
                                                                sd__run_seed(b->patient, b->view, b->session), v->sd));
    sd__run_noise_image(&v->base, &v->rg.mask[0], v->bcomp.jpeg_quality, v->bcomp.chroma, NAN, NULL, &v->bim);
    if (!err)
        SD_TIMED(po, SD_ST_BOOTSTRAP, err = sd__run_noise_sd(ctx, v->w->model, &v->base, &v->rg, &v->bim,
                                                            o->bootstrap > 1 ? v->sd : NULL, v->msd,
                                                            b->patient, b->view, b->session));
    if (err) sd__run_add_error(po, b->path, "metrics", err, ctx->errmsg);
fail:
    sd_image_free(&photo);
    return err;
}

/* The baseline's rows: a face box reaching well outside the photo means landmarks partly
 * guessed (every follow-up's registration will struggle): say so on the baseline's rows. */
static void baseline_rows(View *v)
{
    const SdRunOpts *o = v->o;
    SdAlignQC bq;
    memset(&bq, 0, sizeof(bq));
    bq.ecc = bq.lm_rms_px = bq.overlap = NAN;
    const char *bstatus = sd__run_clip_note(v->bim.clip, v->bnote, sizeof(v->bnote)) ? "warn" : "ok";
    char cwhy[200];
    if ((v->bguard = sd__run_colour_guard(&v->base, &v->rg.mask[0], cwhy, sizeof(cwhy)))) {
        sd__run_colour_blank(&v->rg, v->val);
        sd__run_note_add(v->bnote, sizeof(v->bnote), cwhy);
        bstatus = "warn";
    }
    if (v->nfaces > 1) {
        faces_note(v->bnote, v->nfaces, 0);
        bstatus = "warn";
    }
    double outside;
    if (!o->roi_whole && v->base.photo_w > 0 &&
        sd__run_face_outside(&v->lm.face, v->base.photo_w, v->base.photo_h, &outside)) {
        int lm_out = 0;   /* the box reaching out is harmless while every landmark is inside */
        for (int k = 0; k < SD_NLANDMARKS; k++)
            lm_out |= v->lm.pt[k].x < 0 || v->lm.pt[k].y < 0 || v->lm.pt[k].x > v->base.photo_w - 1 ||
                      v->lm.pt[k].y > v->base.photo_h - 1;
        if (lm_out) {
            bstatus = "warn";
            snprintf(bq.reason, sizeof(bq.reason), "face box %.0f%% outside the photo: landmarks partly extrapolated",
                     100 * outside);
        }
    }
    sd__run_push_values(v->po, v->b, &v->rg, v->val, v->msd, o->bootstrap > 1 ? o->bootstrap : 0, NULL, bstatus);
    sd__run_alignment_row(v->po, v->b, &v->base, &v->bP, bq.reason[0] ? &bq : NULL, bstatus, "baseline", v->bnote);
}

/* One follow-up: registered onto the baseline, photometry matched, measured on the baseline's
 * regions restricted to what it covers. Non-zero (with an error row) when it failed. */
static int score_followup(View *v, const SdCatEntry *e)
{
    SdCtx *ctx = v->ctx;
    const SdRunOpts *o = v->o;
    SdPatientOut *po = v->po;
    SdImage photo = {0};
    SdLandmarks lm;
    SdAligned fu = {0};
    SdAlignQC qc;
    SdPhotometry ph;
    SdRegions frg = {0};
    SdMetricsState *st = NULL;
    SdTransform fP;
    double (*pv)[SD_NMETRICS] = NULL;
    char fnote[SD_NOTE_LEN];
    SdCompression fcomp;
    int err;
    memset(&qc, 0, sizeof(qc));
    int nfaces = 0;
    if ((err = load_and_find(ctx, o, e, po, &photo, &lm, &fP, fnote, &fcomp, &v->hint, &nfaces, NULL))) goto out;
    if (nfaces > 1) faces_note(fnote, nfaces, 1);
    char cmsg[200];
    const int comp_diff = sd__run_compression_differs(&v->bcomp, &fcomp, cmsg, sizeof(cmsg));
    if (comp_diff) {
        fprintf(stderr, "skindelta: warning: %s: %s\n", e->path, cmsg);
        sd__run_note_add(fnote, sizeof(fnote), cmsg);
    }
    SD_TIMED(po, SD_ST_REGISTER, err = sd_align_followup(ctx, &v->base, &photo, o->roi_whole ? NULL : &lm,
                                                         &o->align, &fu, &qc));
    if (err) { sd__run_add_error(po, e->path, "register", err, ctx->errmsg); goto out; }
    if (qc.status == SD_ALIGN_FAILED) {
        char msg[600];
        snprintf(msg, sizeof(msg), "%s: registration onto the baseline failed QC: %s", e->path, qc.reason);
        sd__run_alignment_row(po, e, &fu, &fP, &qc, "failed", "", fnote);
        sd__run_add_error(po, e->path, "register", SD_EALIGN, msg);
        err = SD_EALIGN;
        goto out;
    }
    /* (on the follow-up as captured, before its exposure is matched to the baseline's) */
    SdNoiseImage fim;
    sd__run_noise_image(&fu, &v->rg.mask[0], fcomp.jpeg_quality, fcomp.chroma, qc.ecc, &v->bim, &fim);
    const int clipped = sd__run_clip_note(fim.clip, fnote, sizeof(fnote));
    char fwhy[200];
    const int fguard = sd__run_colour_guard(&fu, &v->rg.mask[0], fwhy, sizeof(fwhy));
    if (fguard) sd__run_note_add(fnote, sizeof(fnote), fwhy);
    SD_TIMED(po, SD_ST_PHOTOMETRY, err = sd_photometry_apply(ctx, &v->base, &fu, o->photometry, &ph));
    if (err) { sd__run_add_error(po, e->path, "photometry", err, ctx->errmsg); goto out; }
    /* the baseline's anatomy and skin, restricted to what the follow-up covers and to its skin */
    SD_TIMED(po, SD_ST_REGIONS, err = sd_regions_build_followup(ctx, &v->base, &v->rg, &fu, &frg));
    if (err) { sd__run_add_error(po, e->path, "regions", err, ctx->errmsg); goto out; }
    /* the baseline on the same skin and pixels (pv): changes.csv compares against these */
    if (v->bst && !(pv = calloc((size_t)frg.n, sizeof(*pv)))) {
        err = SD_ENOMEM;
        sd__run_add_error(po, e->path, "metrics", err, "out of memory");
        goto out;
    }
    SD_TIMED(po, SD_ST_METRICS, err = sd__run_measure_pair(ctx, &fu, &frg, &o->metrics, v->bst, v->val, pv, &st));
    if (!err && o->bootstrap > 1)
        SD_TIMED(po, SD_ST_BOOTSTRAP, err = sd__run_bootstrap_sd(ctx, &photo, &fu, &v->base, &frg, o, &fcomp,
                                                                sd__run_seed(e->patient, e->view, e->session), v->sd));
    if (!err)
        SD_TIMED(po, SD_ST_BOOTSTRAP, err = sd__run_noise_sd(ctx, v->w->model, &fu, &frg, &fim,
                                                            o->bootstrap > 1 ? v->sd : NULL, v->msd,
                                                            e->patient, e->view, e->session));
    if (err) { sd__run_add_error(po, e->path, "metrics", err, ctx->errmsg); goto out; }
    if (fguard) sd__run_colour_blank(&frg, v->val);
    if (pv && v->bguard) sd__run_colour_blank(&frg, pv);
    sd_image_free(&photo);
    /* a pair is flagged (qc and alignment status "warn") when the registration was weak, the
     * follow-up's JPEG compression differs from the baseline's, its skin is clipped or it shows
     * several faces: each moves the metrics without any change of the skin (the reason says
     * which) */
    const int warn = qc.status == SD_ALIGN_WARN || comp_diff || clipped || nfaces > 1 || fguard;
    const char *status = warn ? "warn" : "ok";
    sd__run_push_values(po, e, &frg, v->val, v->msd, o->bootstrap > 1 ? o->bootstrap : 0, pv, status);
    sd__run_alignment_row(po, e, &fu, &fP, &qc, status, ph.summary, fnote);
    po->pairs++;
    po->warn += warn;
    /* an image whose aligned copy or overlays could not be written is counted as failed: it has
     * a row in errors.csv (its measurements are kept) */
    SD_TIMED(po, SD_ST_WRITE, err = save_images(ctx, o, e, &fu, &frg, st, po));
    if (!err && v->bst && st && o->save_images && v->w->model) {   /* the change map, on the baseline (noise_hook.h) */
        char cpath[4400];
        snprintf(cpath, sizeof(cpath), "%s/aligned/%s/%s_%s_change.png", o->out_dir, e->patient,
                 e->view, e->session);
        SD_TIMED(po, SD_ST_WRITE, err = sd_change_map(ctx, v->bst, st, &v->base, &fu, &frg.mask[0],
                                                      v->w->model, &v->bim, &fim, cpath));
        if (err) { sd__run_add_error(po, e->path, "write", err, ctx->errmsg); po->write_errors++; }
    }
out:
    free(pv);
    sd_metrics_free(st);
    sd_regions_free(&frg);
    sd_image_free(&photo);
    sd_aligned_free(&fu);
    return err;
}

/* The baseline failed: each follow-up gets an error row pointing at it. */
static void followups_not_scored(View *v, const SdCatEntry *ents, int first, int n)
{
    for (int i = first; i < n; i++) {
        char msg[700];
        snprintf(msg, sizeof(msg), "%s: not scored because the baseline %s failed (see its row)",
                 ents[i].path, v->b->path);
        sd__run_add_error(v->po, ents[i].path, "baseline", SD_EINVAL, msg);
        v->po->images++;
        count_image(v->w, 1);
    }
}

/* One view of one patient: entries [0, n) all share patient and view, sorted by session; the
 * baseline is the entry with session_index 0 (absent: the follow-ups are reported). */
void sd__run_view(SdCtx *ctx, SdRunWorker *w, const SdCatEntry *ents, int n, SdPatientOut *po)
{
    if (ents[0].session_index != 0) { no_baseline(w, ents, n, po); return; }
    View v;
    memset(&v, 0, sizeof(v));
    v.ctx = ctx; v.w = w; v.o = w->o; v.po = po; v.b = &ents[0];
    SdMetricsState *st = NULL;
    po->images++;
    if (score_baseline(&v, &st)) {
        count_image(w, 1);
        followups_not_scored(&v, ents, 1, n);
    } else {
        baseline_rows(&v);
        int werr;
        SD_TIMED(po, SD_ST_WRITE, werr = save_images(ctx, v.o, v.b, &v.base, &v.rg, st, po));
        v.bst = st;   /* kept for the follow-ups' paired baselines and change maps */
        st = NULL;
        count_image(w, werr != 0);   /* (as for a follow-up: a row in errors.csv) */
        for (int i = 1; i < n; i++) {
            po->images++;
            count_image(w, score_followup(&v, &ents[i]) != 0);
        }
    }
    sd_metrics_free(st);
    sd_metrics_free(v.bst);
    sd_regions_free(&v.rg);
    sd_aligned_free(&v.base);
    free(v.val);
    free(v.sd);
    free(v.msd);
}
