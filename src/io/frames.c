/*
 * frames.c: a directory of frames as an animation.
 *
 * Read: every *.png / *.jpg / *.jpeg file (case-insensitive, hidden files skipped) in natural name order
 * (strverscmp: frame2 before frame10), each a still image of the same size, 40 ms each (25 fps, FFmpeg's image2
 * default), loop forever. Rejected: an empty directory (ILDIFF_ERR_FORMAT), more files than the frame limit
 * (ILDIFF_ERR_LIMIT), an animated file or one of another size (ILDIFF_ERR_FORMAT, naming the file).
 *
 * Write: 000000.png, 000001.png ... (RGBA) into a directory built under a temporary name next to the target and
 * renamed into place when complete. With overwrite, an existing directory is replaced only if it holds nothing but
 * such frame files (so a user's folder is never deleted); an existing non-directory is never replaced.
 *
 * List: ild_dir_list (io.h), the sorted listing behind the reader, also used by `ildiff matte` for frames folders
 * and --batch.
 */
#include "io.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FRAME_MS 40

bool ild_is_frame_name(const char *name)
{
    if (name[0] == '.') return false;
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

static bool keeps(int dir_fd, const char *name, ild_dir_filter filter)
{
    if (filter == ILD_DIR_FRAMES) return ild_is_frame_name(name);
    struct stat sb;
    return name[0] != '.' && fstatat(dir_fd, name, &sb, 0) == 0 && S_ISREG(sb.st_mode);
}

static int by_name(const void *a, const void *b) { return strverscmp(*(char *const *)a, *(char *const *)b); }

void ild_dir_names_free(char **names, size_t count)
{
    for (size_t i = 0; names && i < count; i++) free(names[i]);
    free(names);
}

ildiff_status ild_dir_list(const char *dir, ild_dir_filter filter, int64_t max_names, char ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) return ild_fail(ILDIFF_ERR_IO, "cannot open directory: %s", strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    ildiff_status st = ILDIFF_OK;
    struct dirent *e;
    while (st == ILDIFF_OK && (e = readdir(d)) != NULL) {
        if (!keeps(dirfd(d), e->d_name, filter)) continue;
        if ((int64_t)n >= max_names) {
            st = ild_fail(ILDIFF_ERR_LIMIT, "directory has more than %lld entries", (long long)max_names);
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) {
                st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
                break;
            }
            names = p;
        }
        if (!(names[n] = strdup(e->d_name))) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
        else n++;
    }
    closedir(d);
    if (st != ILDIFF_OK) {
        ild_dir_names_free(names, n);
        return st;
    }
    if (n) qsort(names, n, sizeof *names, by_name);
    *out = names;
    *count = n;
    return ILDIFF_OK;
}

/* The sorted frame file names of `dir`: at least one, at most lim->max_frames. */
static ildiff_status list_frames(const char *dir, const ildiff_limits *lim, char ***out, size_t *count)
{
    ildiff_status st = ild_dir_list(dir, ILD_DIR_FRAMES, lim->max_frames, out, count);
    if (st == ILDIFF_ERR_LIMIT)
        return ild_fail(ILDIFF_ERR_LIMIT, "directory has more than %d frames (raise with --max-frames)", lim->max_frames);
    if (st == ILDIFF_OK && *count == 0) return ild_fail(ILDIFF_ERR_FORMAT, "no PNG or JPEG frames in the directory");
    return st;
}

/* Reads one frame file as a still image. */
static ildiff_status read_one(const char *dir, const char *name, const ildiff_limits *lim, ildiff_anim **out)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);
    if (!path) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    snprintf(path, len, "%s/%s", dir, name);
    uint8_t *data;
    size_t size;
    ildiff_status st = ildiff_read_file(path, lim->max_file_bytes, &data, &size);
    free(path);
    if (st != ILDIFF_OK) return st;
    ildiff_format f = ildiff_format_sniff(data, size);
    if (f == ILDIFF_FORMAT_PNG || f == ILDIFF_FORMAT_APNG) st = ild_png_read(data, size, lim, out);
    else if (f == ILDIFF_FORMAT_JPEG) st = ild_jpeg_read(data, size, lim, out);
    else st = ild_fail(ILDIFF_ERR_FORMAT, "not a PNG or JPEG file");
    free(data);
    if (st == ILDIFF_OK && (*out)->frame_count != 1) {
        ildiff_anim_free(*out);
        *out = NULL;
        st = ild_fail(ILDIFF_ERR_FORMAT, "is animated; frames must be still images");
    }
    return st;
}

ildiff_status ild_frames_read(const char *dir, const ildiff_limits *limits, ildiff_anim **out)
{
    *out = NULL;
    const ildiff_limits *lim = ild_limits_or_default(limits);
    char **names;
    size_t n;
    ildiff_status st = list_frames(dir, lim, &names, &n);
    if (st != ILDIFF_OK) return st;
    ildiff_anim *a = NULL;
    bool alpha = false;
    for (size_t i = 0; st == ILDIFF_OK && i < n; i++) {
        ildiff_anim *f = NULL;
        st = read_one(dir, names[i], lim, &f);
        if (st == ILDIFF_OK && i == 0) {
            st = ild_check_dims(lim, f->width, f->height, (int64_t)n);
            if (st == ILDIFF_OK) st = ildiff_anim_new(f->width, f->height, (int32_t)n, FRAME_MS, &a);
        }
        if (st == ILDIFF_OK && (f->width != a->width || f->height != a->height))
            st = ild_fail(ILDIFF_ERR_FORMAT, "is %dx%d but the first frame is %dx%d", f->width, f->height, a->width, a->height);
        if (st == ILDIFF_OK) {
            memcpy(ildiff_anim_frame(a, (int32_t)i), f->rgba, (size_t)a->width * (size_t)a->height * 4);
            alpha = alpha || f->source_has_alpha;
        } else {
            char why[256];
            snprintf(why, sizeof why, "%s", ildiff_last_error());
            st = ild_fail(st, "%s: %s", names[i], why);
        }
        ildiff_anim_free(f);
    }
    ild_dir_names_free(names, n);
    if (st != ILDIFF_OK) {
        ildiff_anim_free(a);
        return st;
    }
    a->source = ILDIFF_FORMAT_FRAMES;
    a->source_has_alpha = alpha;
    *out = a;
    return ILDIFF_OK;
}

/* True for names this writer makes: six or more digits then ".png". */
static bool is_our_frame(const char *name)
{
    size_t digits = strspn(name, "0123456789");
    return digits >= 6 && strcmp(name + digits, ".png") == 0;
}

/* Removes a directory that holds only our frame files (and, if `check_only`, just says whether it does). */
static bool remove_frames_dir(const char *dir, bool check_only)
{
    DIR *d = opendir(dir);
    if (!d) return false;
    bool ours = true;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!is_our_frame(e->d_name)) {
            ours = false;
            continue;
        }
        if (!check_only) unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
    if (!check_only && ours) rmdir(dir);
    return ours;
}

static ildiff_status write_frames(const ildiff_anim *anim, const char *dir)
{
    size_t len = strlen(dir) + 32;
    char *path = malloc(len);
    if (!path) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    ildiff_status st = ILDIFF_OK;
    for (int32_t i = 0; st == ILDIFF_OK && i < anim->frame_count; i++) {
        uint8_t *png;
        size_t n;
        st = ild_png_encode_rgba(ildiff_anim_frame(anim, i), anim->width, anim->height, &png, &n);
        if (st != ILDIFF_OK) break;
        snprintf(path, len, "%s/%06d.png", dir, (int)i);
        st = ildiff_write_file_atomic(path, png, n, false);
        free(png);
    }
    free(path);
    return st;
}

ildiff_status ild_frames_write(const ildiff_anim *anim, const char *path, bool overwrite)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    char *target = strndup(path, n), *tmp = malloc(n + 32), *old = malloc(n + 32);
    ildiff_status st = target && tmp && old ? ILDIFF_OK : ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    if (tmp) tmp[0] = 0;
    if (old) old[0] = 0;
    struct stat sb;
    bool exists = st == ILDIFF_OK && lstat(target, &sb) == 0;
    if (exists && !overwrite) st = ild_fail(ILDIFF_ERR_EXISTS, "already exists (use -y to overwrite)");
    else if (exists && !S_ISDIR(sb.st_mode)) st = ild_fail(ILDIFF_ERR_EXISTS, "exists and is not a directory");
    else if (exists && !remove_frames_dir(target, true))
        st = ild_fail(ILDIFF_ERR_EXISTS, "directory holds files other than frames; not replacing it");
    if (st == ILDIFF_OK) {
        snprintf(tmp, n + 32, "%s.tmp-XXXXXX", target);
        if (!mkdtemp(tmp)) {
            st = ild_fail(ILDIFF_ERR_IO, "cannot create a directory next to it: %s", strerror(errno));
            tmp[0] = 0;
        }
    }
    if (st == ILDIFF_OK) st = write_frames(anim, tmp);
    if (st == ILDIFF_OK && exists) { /* move the old directory aside (onto an empty one), then put ours in place */
        snprintf(old, n + 32, "%s.old-XXXXXX", target);
        if (!mkdtemp(old)) old[0] = 0;
        if (!old[0] || rename(target, old) != 0) st = ild_fail(ILDIFF_ERR_IO, "cannot replace: %s", strerror(errno));
    }
    if (st == ILDIFF_OK && rename(tmp, target) != 0) {
        st = ild_fail(ILDIFF_ERR_IO, "cannot rename into place: %s", strerror(errno));
        if (exists) rename(old, target);
    }
    if (st == ILDIFF_OK && exists) remove_frames_dir(old, false);
    if (st != ILDIFF_OK && tmp && tmp[0]) {
        remove_frames_dir(tmp, false);
        rmdir(tmp);
    }
    if (st != ILDIFF_OK && old && old[0]) rmdir(old); /* the empty placeholder, if it is still there */
    free(target);
    free(tmp);
    free(old);
    return st;
}
