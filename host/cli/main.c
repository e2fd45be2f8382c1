/* main.c - the `xfiq` command: dispatches to one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/ranks.h"
#include "io/readall.h"
#include "xfiq.h"
#if __has_include("cli/cmd_eval.h")
#include "cli/cmd_eval.h"
#define XFIQ_CLI_HAVE_EVAL 1
#endif

/* How a command runs under mpirun: split over the ranks, on rank 0 alone
 * (the others wait: it is cheap), or refused (it writes files every rank
 * would write). */
enum { MPI_SPLIT = 1, MPI_ROOT, MPI_REFUSE };

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
    int mpi;
} command;

static const command commands[] = {
    {"prepare", xfiq_cmd_prepare, "align faces to the model's template and save them as PNG (+ degraded variants)", MPI_REFUSE},
    {"embed", xfiq_cmd_embed, "embeddings and magnitudes of face images -> .npy + CSV", MPI_SPLIT},
    {"quality", xfiq_cmd_quality, "SER-FIQ quality and magnitude per image -> CSV", MPI_SPLIT},
    {"plq", xfiq_cmd_plq, "pixel-level quality maps (PNG, .npy) with SER-FIQ quality -> CSV", MPI_SPLIT},
    {"calibrate", xfiq_cmd_calibrate, "derive a model's SER-FIQ and PLQ constants from reference faces", MPI_REFUSE},
    {"merge", xfiq_cmd_merge, "join the outputs of `embed`/`quality`/`plq` runs with --shard K/N into one", MPI_REFUSE},
    {"info", xfiq_cmd_info, "what a model is: input, preprocessing, ops, parameters, cost", MPI_ROOT},
#ifdef XFIQ_CLI_HAVE_EVAL
    {"eval", xfiq_cmd_eval, "verification accuracy / ROC on a benchmark (cosine and QMagFace)", MPI_SPLIT},
    {"edc", xfiq_cmd_edc, "error-versus-discard curves for quality columns", MPI_ROOT},
    {"qmagface-train", xfiq_cmd_qmagface_train, "fit QMagFace alpha, beta on labelled pairs", MPI_ROOT},
#endif
};

static void usage(FILE *f)
{
    fprintf(f, "xfiq %d.%d - explainable face image quality and quality-aware face recognition\n\n"
               "usage: xfiq <command> [options]   (xfiq <command> --help for details)\n\ncommands:\n",
            XFIQ_VERSION_MAJOR, XFIQ_VERSION_MINOR);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nevery command also takes --allow-special-inputs: read FIFOs and devices as inputs (refused by\n"
               "default: their size has no bound; at most 1 GiB is read)\n");
}

/* Under mpirun every rank runs this; eval splits its own work (cmd_eval.c),
 * the image commands split through xfiq_cli_job_open and are joined here. */
static int run_command(const command *c, int argc, char **argv)
{
    if (xfiq_ranks_start(&argc, &argv))
        return XFIQ_EXIT_FATAL;
    xfiq_ranks *r = &xfiq_cli_ranks;
    int rc, bad;
    if (!r->active) {
        rc = c->run(argc, argv);
    } else if (c->mpi == MPI_SPLIT) {
        r->split = 1;
        rc = c->run(argc, argv);
        if (strcmp(c->name, "eval"))
            rc = xfiq_cli_mpi_job_finish(c->name, rc);
    } else if (c->mpi == MPI_REFUSE && r->size > 1) {
        if (r->rank == 0)
            fprintf(stderr, "xfiq %s: does not split over processes: run it without mpirun\n", c->name);
        rc = XFIQ_EXIT_FATAL;
    } else {
        rc = xfiq_ranks_agree(r->rank == 0 ? c->run(argc, argv) : 0, &bad);
    }
    xfiq_ranks_stop();
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 1 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("xfiq %d.%d\nMPI: %s\n", XFIQ_VERSION_MAJOR, XFIQ_VERSION_MINOR, xfiq_ranks_library());
        return 0;
    }
    /* Options every command takes, removed before the command parses argv. */
    int k = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--allow-special-inputs"))
            xfiq_io_allow_special_inputs(1);
        else
            argv[k++] = argv[i];
    }
    argc = k;
    argv[argc] = NULL;
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return run_command(&commands[i], argc - 1, argv + 1);
    fprintf(stderr, "xfiq: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 1;
}
