/* cmd_info.c - `xfiq info`: what a model is and what xfiq made of it. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/model.h"

int xfiq_cmd_info(int argc, char **argv)
{
    xfiq_cli_model_opts mo;
    xfiq_cli_model_opts_init(&mo);
    int verbose = 0;
    for (int i = 1; i < argc; i++) {
        int r = xfiq_cli_model_opt(&mo, argc, argv, &i);
        if (r < 0)
            return XFIQ_EXIT_FATAL;
        if (r > 0)
            continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: xfiq info [-m MODEL] [--card CARD] [--nodes]\n"
                   "prints the model's input, preprocessing, embedding layer, size and cost; --nodes lists the\n"
                   "graph after BN folding and activation fusion\n");
            return XFIQ_EXIT_OK;
        } else if (!strcmp(argv[i], "--nodes"))
            verbose = 1;
        else {
            fprintf(stderr, "xfiq info: unknown option '%s'\n", argv[i]);
            return XFIQ_EXIT_FATAL;
        }
    }
    xfiq_backend_t be;
    xfiq_model_t m;
    if (xfiq_cli_open_model(&mo, &be, &m))
        return XFIQ_EXIT_FATAL;
    xfiq_model_info in;
    xfiq_model_get_info(m, &in);
    static const char *orders[] = {"RGB", "BGR", "GREY"};
    printf("model            %s\nfamily           %s\ncard             %s\ninput            %dx%dx%d %s, (x - [%g %g %g]) * [%g %g %g]\n"
           "embedding        %d-d\nembedding layer  %s\nparameters       %.2f M\nmultiply-adds    %.3f G per image\nnodes            %d\n",
           in.name, in.family, m->card.source, in.input_channels, in.input_height, in.input_width,
           orders[in.channel_order], in.mean[0], in.mean[1], in.mean[2], in.scale[0], in.scale[1], in.scale[2],
           in.embedding_dim, in.embedding_layer, (double)in.num_params / 1e6, in.macs_per_image / 1e9, m->g.n_nodes);
    if (verbose)
        for (int i = 0; i < m->g.n_nodes; i++) {
            const xfiq_node *nd = &m->g.nodes[i];
            const xfiq_value *y = &m->g.values[nd->out];
            printf("  %4d %-8s %-28s ->", i, xfiq_op_name(nd->op), nd->name);
            for (int k = 1; k < y->ndim; k++)
                printf(" %lld", (long long)y->dims[k]);
            printf("%s\n", nd->act == 2 ? "  +prelu" : nd->act == 1 ? "  +relu" : "");
        }
    xfiq_model_free(m);
    xfiq_backend_free(be);
    return XFIQ_EXIT_OK;
}
