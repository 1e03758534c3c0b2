/* test_fuzz_regressions.c: replays every input in fuzz/regressions/<format>/ (inputs that once crashed a reader
 * under libFuzzer, kept by fuzz/run.sh) through ildiff_anim_read_memory with the fuzzer's limits. Any status is
 * fine; the reader must not crash, leak (the sanitizer build checks) or break its contract: on failure *out is
 * NULL and the reason is set, on success the animation is complete. ILDIFF_FUZZ_REGRESSIONS overrides the folder. */
#include "check.h"
#include "ildiff.h"

#include <dirent.h>
#include <string.h>

static int replayed;

static void replay_file(const char *path, ildiff_format format)
{
    printf("# replaying %s\n", path); /* named before the read, so a crash's log says which input */
    fflush(stdout);
    uint8_t *data;
    size_t size;
    if (ildiff_read_file(path, 0, &data, &size) != ILDIFF_OK) {
        CHECK_MSG(0, "%s: %s", path, ildiff_last_error());
        return;
    }
    ildiff_limits lim = ildiff_limits_default();
    lim.max_width = 512, lim.max_height = 512, lim.max_frames = 64;
    lim.max_total_pixels = (int64_t)512 * 512 * 16, lim.max_file_bytes = 1 << 20;
    ildiff_anim *a = NULL;
    ildiff_status st = ildiff_anim_read_memory(data, size, format, &lim, &a);
    if (st == ILDIFF_OK) {
        CHECK_MSG(a && a->width > 0 && a->height > 0 && a->frame_count > 0 && a->frame_count <= 64, "%s: bad animation", path);
        for (int32_t i = 0; a && i < a->frame_count; i++) CHECK(a->durations_ms[i] >= 1);
        ildiff_anim_free(a);
    } else {
        CHECK_MSG(a == NULL, "%s: failed but returned an animation", path);
        CHECK_MSG(st > 0 && st < ILDIFF_STATUS_COUNT && ildiff_last_error()[0], "%s: status %d", path, (int)st);
    }
    free(data);
    replayed++;
}

static void test_replay(void)
{
    const char *root = check_env("ILDIFF_FUZZ_REGRESSIONS", "fuzz/regressions");
    DIR *top = opendir(root);
    if (!top) return;
    struct dirent *e;
    while ((e = readdir(top))) {
        if (e->d_name[0] == '.') continue;
        ildiff_format format = ildiff_format_from_name(e->d_name);
        CHECK_MSG(format != ILDIFF_FORMAT_UNKNOWN, "%s/%s: folder is not a format name", root, e->d_name);
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", root, e->d_name);
        DIR *d = opendir(dir);
        if (!d) continue;
        struct dirent *f;
        while ((f = readdir(d))) {
            if (f->d_name[0] == '.') continue;
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", dir, f->d_name);
            replay_file(path, format);
        }
        closedir(d);
    }
    closedir(top);
}

int main(void)
{
    ildiff_log_set(NULL, NULL, ILDIFF_LOG_ERROR);
    RUN(test_replay);
    printf("# replayed %d regression inputs\n", replayed);
    return check_done();
}
