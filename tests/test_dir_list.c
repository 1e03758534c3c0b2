/*
 * test_dir_list.c: ild_dir_list (io.h), the directory listing shared by the frames reader and `ildiff matte`:
 * what each filter keeps (hidden names, folders, links, extensions), natural order, the limit, a missing folder.
 */
#include "check.h"
#include "io/io.h"

#include <stdint.h>
#include <unistd.h>

static char dir[512];

/* A fresh folder `name` under the scratch folder, made by the shell command `setup` run inside it. */
static void make_dir(const char *name, const char *setup)
{
    snprintf(dir, sizeof dir, "%s/dir_list_%d_%s", CHECK_TMPDIR(), (int)getpid(), name);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && cd '%s' && %s", dir, dir, dir, setup);
    CHECK_MSG(system(cmd) == 0, "setup failed: %s", cmd);
}

static void remove_dir(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* The listing as "a b c" (at most 512 bytes). */
static ildiff_status listed(ild_dir_filter filter, int64_t max, char *out)
{
    char **names = NULL;
    size_t n = 99;
    ildiff_status st = ild_dir_list(dir, filter, max, &names, &n);
    out[0] = 0;
    for (size_t i = 0; i < n && st == ILDIFF_OK; i++)
        snprintf(out + strlen(out), 512 - strlen(out), "%s%s", i ? " " : "", names[i]);
    if (st != ILDIFF_OK) CHECK(!names && n == 0);
    ild_dir_names_free(names, n);
    return st;
}

static void test_filters_and_order(void)
{
    make_dir("filters", "mkdir sub.png && touch f10.png f2.JPG f1.jpeg .hidden.png notes.txt noext && "
                        "ln -s notes.txt link.png && ln -s gone dangling.png");
    char got[512];
    /* frames: by name only (a folder or a dangling link named like a frame counts) */
    CHECK_OK(listed(ILD_DIR_FRAMES, INT64_MAX, got));
    CHECK_MSG(!strcmp(got, "dangling.png f1.jpeg f2.JPG f10.png link.png sub.png"), "frames: %s", got);
    /* files: regular files after links, not hidden */
    CHECK_OK(listed(ILD_DIR_FILES, INT64_MAX, got));
    CHECK_MSG(!strcmp(got, "f1.jpeg f2.JPG f10.png link.png noext notes.txt"), "files: %s", got);
    CHECK(listed(ILD_DIR_FRAMES, 5, got) == ILDIFF_ERR_LIMIT);
    CHECK_OK(listed(ILD_DIR_FRAMES, 6, got));
    CHECK(ild_is_frame_name("a.Png") && !ild_is_frame_name(".a.png") && !ild_is_frame_name("png") &&
          !ild_is_frame_name("a.gif"));
    remove_dir();
}

static void test_empty_and_missing(void)
{
    make_dir("empty", "true");
    char got[512];
    CHECK_OK(listed(ILD_DIR_FILES, INT64_MAX, got));
    CHECK(got[0] == 0);
    CHECK_OK(listed(ILD_DIR_FRAMES, 0, got)); /* the limit counts kept names only */
    remove_dir();
    CHECK(listed(ILD_DIR_FILES, INT64_MAX, got) == ILDIFF_ERR_IO);
}

int main(void)
{
    RUN(test_filters_and_order);
    RUN(test_empty_and_missing);
    return check_done();
}
