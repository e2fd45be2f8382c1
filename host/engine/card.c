/* card.c - model card JSON reader (libcjson) and per-family defaults. */
#include "engine/card.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/readall.h"
#include "io/afile.h"

static void copy_str(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

void xfiq_card_default(const xfiq_graph *g, const char *model_path, xfiq_card *card)
{
    memset(card, 0, sizeof *card);
    const xfiq_value *in = &g->values[g->input];
    card->channels = (int)in->dims[1];
    card->height = (int)in->dims[2];
    card->width = (int)in->dims[3];
    int ends_in_gemm = 0;
    for (int i = g->n_nodes - 1; i >= 0; i--)
        if (g->nodes[i].op == XFIQ_OP_GEMM || g->nodes[i].op == XFIQ_OP_CONV) {
            ends_in_gemm = g->nodes[i].op == XFIQ_OP_GEMM;
            break;
        }
    /* iResNet exports (insightface layout) take RGB (x-127.5)/127.5; the
     * MobileFaceNet default model takes RGB (x-127)/128 (SPEC 2.1, 8). */
    copy_str(card->family, sizeof card->family, ends_in_gemm ? "iresnet" : "mobilefacenet");
    card->order = card->channels == 1 ? XFIQ_ORDER_GREY : XFIQ_ORDER_RGB;
    for (int c = 0; c < 3; c++) {
        card->mean[c] = ends_in_gemm ? 127.5f : 127.0f;
        card->scale[c] = ends_in_gemm ? 1.0f / 127.5f : 1.0f / 128.0f;
    }
    copy_str(card->name, sizeof card->name, base_name(model_path));
    snprintf(card->source, sizeof card->source, "defaults for %s", card->family);
}

static xfiq_status read_file(const char *path, char **out)
{
    /* Cards are small: a file over 1 MiB is refused, never silently truncated. */
    uint8_t *data = NULL;
    size_t len = 0;
    xfiq_status st = xfiq_file_read_all(path, (size_t)1 << 20, &data, &len);
    if (st != XFIQ_OK)
        return xfiq_error_prefix(st, "model card");
    *out = (char *)data;
    return XFIQ_OK;
}

static xfiq_status read_triplet(const char *path, const cJSON *in, const char *key, float *dst)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(in, key);
    if (!a)
        return XFIQ_OK;
    if (cJSON_IsNumber(a)) {
        if (!(fabs(a->valuedouble) <= 1e30) || (!strcmp(key, "scale") && a->valuedouble == 0))
            return xfiq_error(XFIQ_ERR_FORMAT, "%s: input.%s is %g: not a usable finite number", path, key,
                              a->valuedouble);
        dst[0] = dst[1] = dst[2] = (float)a->valuedouble;
        return XFIQ_OK;
    }
    if (!cJSON_IsArray(a) || (cJSON_GetArraySize(a) != 3 && cJSON_GetArraySize(a) != 1))
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: input.%s must be a number or an array of 1 or 3 numbers", path, key);
    int n = cJSON_GetArraySize(a);
    for (int c = 0; c < 3; c++) {
        const cJSON *e = cJSON_GetArrayItem(a, n == 1 ? 0 : c);
        if (!cJSON_IsNumber(e))
            return xfiq_error(XFIQ_ERR_FORMAT, "%s: input.%s[%d] is not a number", path, key, c);
        if (!(fabs(e->valuedouble) <= 1e30) || (!strcmp(key, "scale") && e->valuedouble == 0))
            return xfiq_error(XFIQ_ERR_FORMAT, "%s: input.%s[%d] is %g: not a usable finite number", path, key, c,
                              e->valuedouble);
        dst[c] = (float)e->valuedouble;
    }
    return XFIQ_OK;
}

xfiq_status xfiq_card_load(const char *path, xfiq_card *card)
{
    char *text = NULL;
    XFIQ_TRY(read_file(path, &text));
    xfiq_status st = xfiq_card_parse(text, path, card);
    free(text);
    return st;
}

static int is_sha256_hex(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return 0;
    return n == 64;
}

xfiq_status xfiq_card_parse(const char *text, const char *path, xfiq_card *card)
{
    cJSON *root = cJSON_Parse(text);
    xfiq_status st = XFIQ_OK;
    if (!root || !cJSON_IsObject(root)) {
        const char *where = cJSON_GetErrorPtr();
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: not a JSON object (parse error near byte %ld)", path,
                        where && root == NULL ? (long)(where - text) : 0L);
        goto done;
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
    const cJSON *family = cJSON_GetObjectItemCaseSensitive(root, "family");
    const cJSON *emb = cJSON_GetObjectItemCaseSensitive(root, "embedding_layer");
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "input");
    if (cJSON_IsString(name))
        copy_str(card->name, sizeof card->name, name->valuestring);
    if (cJSON_IsString(family))
        copy_str(card->family, sizeof card->family, family->valuestring);
    if (cJSON_IsString(emb))
        copy_str(card->embedding_layer, sizeof card->embedding_layer, emb->valuestring);
    if (in) {
        if (!cJSON_IsObject(in)) {
            st = xfiq_error(XFIQ_ERR_FORMAT, "%s: 'input' must be an object", path);
            goto done;
        }
        const char *keys[3] = {"width", "height", "channels"};
        int *dst[3] = {&card->width, &card->height, &card->channels};
        for (int i = 0; i < 3; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, keys[i]);
            if (!v)
                continue;
            if (!cJSON_IsNumber(v) || v->valueint < 1 || v->valueint > 4096 || v->valuedouble != (double)v->valueint) {
                st = xfiq_error(XFIQ_ERR_FORMAT, "%s: input.%s must be a positive integer", path, keys[i]);
                goto done;
            }
            *dst[i] = v->valueint;
        }
        const cJSON *order = cJSON_GetObjectItemCaseSensitive(in, "order");
        if (order) {
            const char *o = cJSON_IsString(order) ? order->valuestring : "";
            if (!strcmp(o, "RGB"))
                card->order = XFIQ_ORDER_RGB;
            else if (!strcmp(o, "BGR"))
                card->order = XFIQ_ORDER_BGR;
            else if (!strcmp(o, "GREY") || !strcmp(o, "GRAY"))
                card->order = XFIQ_ORDER_GREY;
            else {
                st = xfiq_error(XFIQ_ERR_FORMAT, "%s: input.order must be \"RGB\", \"BGR\" or \"GREY\"", path);
                goto done;
            }
        }
        if ((st = read_triplet(path, in, "mean", card->mean)) != XFIQ_OK ||
            (st = read_triplet(path, in, "scale", card->scale)) != XFIQ_OK)
            goto done;
    }
    const cJSON *origin = cJSON_GetObjectItemCaseSensitive(root, "source");
    if (cJSON_IsString(origin))
        copy_str(card->origin, sizeof card->origin, origin->valuestring);
    const cJSON *lic = cJSON_GetObjectItemCaseSensitive(root, "license");
    if (cJSON_IsString(lic))
        copy_str(card->license, sizeof card->license, lic->valuestring);
    const cJSON *cal = cJSON_GetObjectItemCaseSensitive(root, "calibration");
    if (cal) {
        const char *keys[4] = {"serfiq_alpha", "serfiq_r", "plq_a", "plq_b"};
        double *dst[4] = {&card->serfiq_alpha, &card->serfiq_r, &card->plq_a, &card->plq_b};
        for (int i = 0; i < 4; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(cal, keys[i]);
            if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
                st = xfiq_error(XFIQ_ERR_FORMAT, "%s: calibration.%s must be a finite number", path, keys[i]);
                goto done;
            }
            *dst[i] = v->valuedouble;
        }
        const cJSON *mode = cJSON_GetObjectItemCaseSensitive(cal, "plq_mode");
        const char *ms = cJSON_IsString(mode) ? mode->valuestring : "";
        card->plq_mode = !strcmp(ms, "paper") ? 0 : !strcmp(ms, "signed") ? 1 : !strcmp(ms, "magnitude") ? 2 : -1;
        if (card->plq_mode < 0) {
            st = xfiq_error(XFIQ_ERR_FORMAT, "%s: calibration.plq_mode must be \"paper\", \"signed\" or \"magnitude\"",
                            path);
            goto done;
        }
        const cJSON *note = cJSON_GetObjectItemCaseSensitive(cal, "reference");
        if (cJSON_IsString(note))
            copy_str(card->calibration_note, sizeof card->calibration_note, note->valuestring);
        card->has_calibration = 1;
    }
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(root, "sha256");
    if (sha) {
        if (!cJSON_IsString(sha) || !is_sha256_hex(sha->valuestring)) {
            st = xfiq_error(XFIQ_ERR_FORMAT, "%s: sha256 must be the model file's digest as 64 lowercase hex digits",
                            path);
            goto done;
        }
        copy_str(card->sha256, sizeof card->sha256, sha->valuestring);
    }
    copy_str(card->source, sizeof card->source, path);
done:
    cJSON_Delete(root);
    return st;
}

xfiq_status xfiq_card_save(const xfiq_card *card, const char *path)
{
    static const char *orders[] = {"RGB", "BGR", "GREY"}, *modes[] = {"paper", "signed", "magnitude"};
    cJSON *root = cJSON_CreateObject(), *in = cJSON_CreateObject();
    if (!root || !in) {
        cJSON_Delete(root);
        cJSON_Delete(in);
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory writing %s", path);
    }
    cJSON_AddStringToObject(root, "name", card->name);
    cJSON_AddStringToObject(root, "family", card->family);
    cJSON_AddNumberToObject(in, "width", card->width);
    cJSON_AddNumberToObject(in, "height", card->height);
    cJSON_AddNumberToObject(in, "channels", card->channels);
    cJSON_AddStringToObject(in, "order", orders[card->order]);
    const float *src[2] = {card->mean, card->scale};
    const char *names[2] = {"mean", "scale"};
    for (int k = 0; k < 2; k++) {
        cJSON *a = cJSON_AddArrayToObject(in, names[k]);
        for (int c = 0; c < 3; c++)
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)src[k][c]));
    }
    cJSON_AddItemToObject(root, "input", in);
    cJSON_AddStringToObject(root, "embedding_layer", card->embedding_layer);
    if (card->origin[0])
        cJSON_AddStringToObject(root, "source", card->origin);
    if (card->license[0])
        cJSON_AddStringToObject(root, "license", card->license);
    if (card->sha256[0])
        cJSON_AddStringToObject(root, "sha256", card->sha256);
    if (card->has_calibration) {
        cJSON *cal = cJSON_AddObjectToObject(root, "calibration");
        cJSON_AddNumberToObject(cal, "serfiq_alpha", card->serfiq_alpha);
        cJSON_AddNumberToObject(cal, "serfiq_r", card->serfiq_r);
        cJSON_AddStringToObject(cal, "plq_mode", modes[card->plq_mode]);
        cJSON_AddNumberToObject(cal, "plq_a", card->plq_a);
        cJSON_AddNumberToObject(cal, "plq_b", card->plq_b);
        cJSON_AddStringToObject(cal, "reference", card->calibration_note);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory writing %s", path);
    size_t len = strlen(text);
    text[len] = '\n';
    xfiq_status st = xfiq_afile_write_all(path, text, len + 1);
    free(text);
    return st;
}

/* Cards of models/ built into the library (generated by CMake from
 * the models/NAME.card.json files: file name and text). */
typedef struct xfiq_builtin_card {
    const char *file;
    const char *text;
} xfiq_builtin_card;
extern const xfiq_builtin_card xfiq_builtin_cards[];
extern const int xfiq_n_builtin_cards;

/* 1 when text parses to a card for sha256_hex (filled in card), 0 when it
 * is for another model, -1 on a malformed card. */
static int try_card(const char *text, const char *name, const char *sha256_hex, xfiq_card *card)
{
    xfiq_card c = *card;
    if (xfiq_card_parse(text, name, &c) != XFIQ_OK)
        return -1;
    if (strcmp(c.sha256, sha256_hex))
        return 0;
    *card = c;
    return 1;
}

int xfiq_card_find_known(const char *sha256_hex, xfiq_card *card)
{
    const char *env = getenv("XFIQ_CARD_PATH");
    while (env && *env) {
        size_t n = strcspn(env, ":");
        char dir[2048];
        snprintf(dir, sizeof dir, "%.*s", (int)(n < sizeof dir ? n : sizeof dir - 1), env);
        env += n + (env[n] == ':');
        DIR *d = dir[0] ? opendir(dir) : NULL;
        struct dirent *e;
        while (d && (e = readdir(d))) {
            size_t l = strlen(e->d_name);
            if (l <= 10 || strcmp(e->d_name + l - 10, ".card.json"))
                continue;
            char path[4096], *text = NULL;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (read_file(path, &text) != XFIQ_OK) {
                closedir(d);
                return -1;
            }
            int r = try_card(text, path, sha256_hex, card);
            free(text);
            if (r) {
                closedir(d);
                return r;
            }
        }
        if (d)
            closedir(d);
    }
    for (int i = 0; i < xfiq_n_builtin_cards; i++) {
        char name[512];
        snprintf(name, sizeof name, "built-in card models/%s", xfiq_builtin_cards[i].file);
        int r = try_card(xfiq_builtin_cards[i].text, name, sha256_hex, card);
        if (r < 0) /* a malformed built-in card is a build error */
            return xfiq_error(XFIQ_ERR_INTERNAL, "%s", xfiq_last_error()), -1;
        if (r)
            return 1;
    }
    return 0;
}
