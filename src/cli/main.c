/* main.c: `ildiff COMMAND ...`: finds the subcommand and hands over argv. */
#include "cli.h"

#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"info", cli_info, "describe an animation: format, size, frames, timing, alpha, loop"},
    {"convert", cli_convert, "convert between sticker formats, or for a platform with --preset"},
    {"eval", cli_eval, "score a matting method on a sample set: PSNR, SSIM, RVM metrics, hole, collapse"},
    {"dataset", cli_dataset, "build a TASD-style sticker corpus, print its statistics, export a split"},
    {"train", cli_train, "train a stage of the model: progress, checkpoints, exact resume, loss curves"},
    {"paper", cli_paper, "regenerate the paper's tables and figures on a sample set into a report folder"},
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

int main(int argc, char **argv)
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
    for (int i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(name, commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "ildiff: unknown command '%s'\nTry 'ildiff --help'.\n", name);
    return CLI_USAGE;
}
