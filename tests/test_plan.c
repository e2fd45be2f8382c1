/* test_plan.c - the memory plan: 256-byte aligned buffers, no two buffers
 * that are live at the same node overlap, views share storage, and reuse
 * makes the block smaller than one buffer per value. */
#include "engine/plan.h"
#include "onnx/onnx_import.h"
#include "test_util.h"
#include "xfiq_test.h"

static void check(const char *path, int batch)
{
    xfiq_graph g;
    CHECK_OK(xfiq_onnx_import(path, &g));
    CHECK_OK(xfiq_graph_optimize(&g, 1));
    xfiq_plan p;
    CHECK_OK(xfiq_plan_build(&p, &g, xfiq_backend_cpu_ops(), NULL, batch, 2));
    size_t naive = 0;
    int overlaps = 0, misaligned = 0;
    for (int a = 0; a < g.n_values; a++) {
        const xfiq_value *va = &g.values[a];
        if (va->storage != a || va->last_use < 0 || (va->producer < 0 && a != g.input))
            continue;
        size_t sa = (size_t)va->numel * batch * 4;
        naive += (sa + 255) & ~(size_t)255;
        misaligned += p.offsets[a] % 256 != 0;
        CHECK(p.offsets[a] + sa <= p.activation_bytes);
        int a0 = a == g.input ? -1 : va->producer, a1 = va->last_use;
        for (int b = a + 1; b < g.n_values; b++) {
            const xfiq_value *vb = &g.values[b];
            if (vb->storage != b || vb->last_use < 0 || (vb->producer < 0 && b != g.input))
                continue;
            size_t sb = (size_t)vb->numel * batch * 4;
            int b0 = b == g.input ? -1 : vb->producer, b1 = vb->last_use;
            int live_together = !(a1 < b0 || b1 < a0);
            int mem_overlap = p.offsets[a] < p.offsets[b] + sb && p.offsets[b] < p.offsets[a] + sa;
            overlaps += live_together && mem_overlap;
        }
    }
    for (int v = 0; v < g.n_values; v++)
        CHECK(p.offsets[v] == p.offsets[g.values[v].storage]);
    printf("%s batch %d: %d nodes, activations %.1f KiB planned vs %.1f KiB without reuse, workspace %.1f KiB\n",
           strrchr(path, '/') + 1, batch, g.n_nodes, p.activation_bytes / 1024.0, naive / 1024.0,
           p.workspace_bytes / 1024.0);
    CHECK_MSG(overlaps == 0, "%d pairs of live buffers overlap", overlaps);
    CHECK(misaligned == 0);
    CHECK(p.activation_bytes < naive);
    CHECK(p.workspace_offset % 256 == 0);
    xfiq_plan_free(&p);
    xfiq_graph_free(&g);
}

int main(void)
{
    char dir[4096], p[4200];
    snprintf(dir, sizeof dir, "%s/golden", test_env("XFIQ_FIXTURE_DIR", "fixtures"));
    snprintf(p, sizeof p, "%s/mfn_tiny.onnx", dir);
    if (!test_file_exists(p))
        SKIP("golden fixtures missing (%s)", p);
    check(p, 1);
    check(p, 7);
    snprintf(p, sizeof p, "%s/iresnet_tiny.onnx", dir);
    check(p, 3);
    TEST_END();
}
