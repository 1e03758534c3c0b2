/* main.c: `ildiff COMMAND ...`: finds the subcommand and hands over argv. */
#include "cli.h"
#include "dist/dist.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    bool distributed; /* splits its work over MPI ranks (docs/mpi.md); others refuse to run on several ranks */
} command;

static const command commands[] = {
    {"info", cli_info, "describe an animation: format, size, frames, timing, alpha, loop", false},
    {"convert", cli_convert, "convert between sticker formats, or for a platform with --preset", false},
    {"matte", cli_matte, "make a transparent sticker with the ILDiff model; --batch mattes a folder (MPI ranks)", true},
    {"eval", cli_eval, "score a matting method on a sample set: PSNR, SSIM, RVM metrics, hole, collapse", false},
    {"dataset", cli_dataset, "build a TASD-style sticker corpus, print its statistics, export a split", true},
    {"train", cli_train, "train a stage of the model: progress, checkpoints, exact resume, loss curves", true},
    {"model", cli_model, "pack a training run's weights into a model file for matte; describe a model file", false},
    {"paper", cli_paper, "regenerate the paper's tables and figures on a sample set into a report folder", false},
};
enum { COMMAND_COUNT = sizeof commands / sizeof commands[0] };

static void print_help(FILE *f)
{
    fprintf(f, "Usage: ildiff COMMAND [options]\n\n"
               "Transparent animated stickers from RGB animations, and every sticker format in and out.\n\n"
               "Commands:\n");
    for (int i = 0; i < COMMAND_COUNT; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'ildiff COMMAND --help' describes a command's options.\n"
               "Exit status: 0 success, 1 processing error, 2 usage error.\n");
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        print_help(stdout);
        return CLI_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("ildiff %s\n", ILDIFF_VERSION_STRING);
        return CLI_OK;
    }
    for (int i = 0; i < COMMAND_COUNT; i++) {
        if (strcmp(name, commands[i].name) != 0) continue;
        if (ild_dist_size() > 1 && !commands[i].distributed)
            return cli_error(NULL, "'ildiff %s' does not split its work over MPI ranks: run it without mpirun", name);
        return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "ildiff: unknown command '%s'\nTry 'ildiff --help'.\n", name);
    return CLI_USAGE;
}

/* Under mpirun every rank runs main; ild_dist_finish ends the job: MPI_Finalize on success, MPI_Abort (every rank
 * stops) on failure. Without mpirun both calls do nothing. In a sanitizer build under MPI the leak check runs
 * before MPI_Finalize, which unloads OpenMPI's plugins (tests/lsan.supp could not name their frames after). */
/* OpenMP threads spin while they wait by default; on a machine that is busy with other work that made the
 * model 10x slower (bench/NOTES.md). The runtime reads OMP_WAIT_POLICY only when it starts, so when the user has
 * not chosen, set "passive" and run this program again with the same arguments (once). */
static void prefer_passive_openmp_wait(char **argv)
{
    if (getenv("OMP_WAIT_POLICY")) return;
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv); /* returns only on failure: then go on with the default policy */
}

int main(int argc, char **argv)
{
    prefer_passive_openmp_wait(argv);
    if (ild_dist_init(&argc, &argv) != ILDIFF_OK) {
        fprintf(stderr, "ildiff: %s\n", ildiff_last_error());
        return ild_dist_finish(CLI_FAIL);
    }
    int rc = run(argc, argv);
#if defined(__SANITIZE_ADDRESS__)
    if (ild_dist_active()) __lsan_do_leak_check();
#endif
    return ild_dist_finish(rc);
}
