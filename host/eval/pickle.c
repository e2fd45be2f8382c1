/* pickle.c - strict pickle reader for insightface .bin files: a tiny stack
 * machine over exactly the opcodes such files use; everything else is
 * refused with the offset and the opcode byte. */
#include "eval/pickle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "eval/eval_util.h"

enum { PK_NONE, PK_BOOL, PK_INT, PK_BYTES, PK_STR, PK_LIST, PK_TUPLE, PK_CALL_ENCODE, PK_CALL_BYTES };

typedef struct pk_obj {
    int type;
    int64_t ival;
    const uint8_t *ptr; /* bytes / str payload */
    size_t len;
    uint8_t *owned;     /* converted payload (latin-1 from a str) */
    struct pk_obj **items;
    size_t n, cap;
} pk_obj;

typedef struct pk_state {
    const uint8_t *buf;
    size_t len, pos;
    const char *name;
    pk_obj **all; /* every object, for freeing */
    size_t n_all, cap_all;
    pk_obj **stack;
    size_t sp, cap_stack;
    size_t *marks;
    size_t n_marks, cap_marks;
    pk_obj **memo;
    size_t cap_memo;
    size_t memo_next; /* MEMOIZE index */
    size_t owned_bytes; /* payload bytes allocated (latin-1 conversions, copies) */
} pk_state;

/* Memo indexes come from the file: refuse absurd ones instead of
 * allocating whatever a corrupt file asks for. Python numbers memo entries
 * 0, 1, 2, ... so an index can never exceed the objects made so far. */
#define PK_MAX_MEMO (1u << 28)
/* Payload bytes the reader may allocate besides the file itself: every
 * conversion of a str to bytes and every copy of a memoised payload counts,
 * so a small file cannot be amplified (one big string memoised and decoded
 * or listed many times) into gigabytes. A real file converts each payload
 * once: at most its own size. */
#define PK_OWNED_SLACK ((size_t)1 << 20)

static int pk_budget(const pk_state *s, size_t more)
{
    return more <= s->len + PK_OWNED_SLACK && s->owned_bytes <= s->len + PK_OWNED_SLACK - more;
}

static xfiq_status pk_err(pk_state *s, size_t at, const char *what)
{
    return xfiq_error(XFIQ_ERR_FORMAT, "%s: offset %zu: %s", s->name, at, what);
}

static pk_obj *pk_new(pk_state *s, int type)
{
    if (xfiq_grow((void **)&s->all, &s->cap_all, s->n_all + 1, sizeof(pk_obj *)) != XFIQ_OK)
        return NULL;
    pk_obj *o = calloc(1, sizeof(pk_obj));
    if (!o)
        return NULL;
    o->type = type;
    s->all[s->n_all++] = o;
    return o;
}

static xfiq_status pk_push(pk_state *s, pk_obj *o)
{
    if (!o)
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", s->name);
    XFIQ_TRY(xfiq_grow((void **)&s->stack, &s->cap_stack, s->sp + 1, sizeof(pk_obj *)));
    s->stack[s->sp++] = o;
    return XFIQ_OK;
}

static xfiq_status pk_pop(pk_state *s, size_t at, pk_obj **o)
{
    size_t floor_ = s->n_marks ? s->marks[s->n_marks - 1] : 0;
    if (s->sp <= floor_)
        return pk_err(s, at, "stack underflow (malformed pickle)");
    *o = s->stack[--s->sp];
    return XFIQ_OK;
}

static xfiq_status pk_need(pk_state *s, size_t at, size_t n)
{
    if (n > s->len - s->pos)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: offset %zu: truncated (needs %zu more bytes, %zu left)",
                          s->name, at, n, s->len - s->pos);
    return XFIQ_OK;
}

static uint64_t pk_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static xfiq_status pk_append(pk_state *s, pk_obj *list, pk_obj *item)
{
    (void)s;
    XFIQ_TRY(xfiq_grow((void **)&list->items, &list->cap, list->n + 1, sizeof(pk_obj *)));
    list->items[list->n++] = item;
    return XFIQ_OK;
}

/* Items above the last mark become a new list/tuple, or are appended to
 * the list just below the mark (APPENDS). */
static xfiq_status pk_collect(pk_state *s, size_t at, int type, int append)
{
    if (!s->n_marks)
        return pk_err(s, at, "no MARK before LIST/TUPLE/APPENDS");
    size_t m = s->marks[--s->n_marks];
    pk_obj *dst;
    if (append) {
        if (m == 0 || s->stack[m - 1]->type != PK_LIST)
            return pk_err(s, at, "APPENDS without a list below the MARK");
        dst = s->stack[m - 1];
    } else {
        dst = pk_new(s, type);
        if (!dst)
            return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", s->name);
    }
    for (size_t i = m; i < s->sp; i++)
        XFIQ_TRY(pk_append(s, dst, s->stack[i]));
    s->sp = m;
    return append ? XFIQ_OK : pk_push(s, dst);
}

static xfiq_status pk_tuple_n(pk_state *s, size_t at, int n)
{
    pk_obj *t = pk_new(s, PK_TUPLE);
    if (!t)
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", s->name);
    pk_obj *items[3] = {NULL, NULL, NULL};
    for (int i = n - 1; i >= 0; i--)
        XFIQ_TRY(pk_pop(s, at, &items[i]));
    for (int i = 0; i < n; i++)
        XFIQ_TRY(pk_append(s, t, items[i]));
    return pk_push(s, t);
}

static xfiq_status pk_memo_put(pk_state *s, size_t at, uint64_t idx)
{
    if (!s->sp)
        return pk_err(s, at, "memo store with an empty stack");
    if (idx >= PK_MAX_MEMO || idx > s->n_all)
        return pk_err(s, at, "memo index too large (more than the objects read so far)");
    if (idx >= s->cap_memo) {
        size_t nc = s->cap_memo ? s->cap_memo : 64;
        while (nc <= idx)
            nc *= 2;
        pk_obj **p = realloc(s->memo, nc * sizeof(pk_obj *));
        if (!p)
            return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", s->name);
        memset(p + s->cap_memo, 0, (nc - s->cap_memo) * sizeof(pk_obj *));
        s->memo = p;
        s->cap_memo = nc;
    }
    s->memo[idx] = s->stack[s->sp - 1];
    return XFIQ_OK;
}

static xfiq_status pk_memo_get(pk_state *s, size_t at, uint64_t idx)
{
    if (idx >= s->cap_memo || !s->memo[idx])
        return pk_err(s, at, "memo get of an index never stored");
    return pk_push(s, s->memo[idx]);
}

static xfiq_status pk_blob(pk_state *s, size_t at, int type, size_t n)
{
    XFIQ_TRY(pk_need(s, at, n));
    pk_obj *o = pk_new(s, type);
    if (!o)
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", s->name);
    o->ptr = s->buf + s->pos;
    o->len = n;
    s->pos += n;
    return pk_push(s, o);
}

static int global_is(const char *mod, size_t ml, const char *nm, size_t nl, const char *m2,
                     const char *n2)
{
    return ml == strlen(m2) && !memcmp(mod, m2, ml) && nl == strlen(n2) && !memcmp(nm, n2, nl);
}

static xfiq_status pk_global(pk_state *s, size_t at, const char *mod, size_t ml, const char *nm,
                             size_t nl)
{
    int type = -1;
    if (global_is(mod, ml, nm, nl, "_codecs", "encode"))
        type = PK_CALL_ENCODE;
    else if (global_is(mod, ml, nm, nl, "__builtin__", "bytes") ||
             global_is(mod, ml, nm, nl, "builtins", "bytes"))
        type = PK_CALL_BYTES;
    if (type < 0) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "unsupported global %.*s.%.*s (only _codecs.encode and bytes occur in .bin image "
                 "lists; numpy arrays are not supported: store issame_list as a list of bools)",
                 (int)(ml > 60 ? 60 : ml), mod, (int)(nl > 60 ? 60 : nl), nm);
        return pk_err(s, at, msg);
    }
    return pk_push(s, pk_new(s, type));
}

/* _codecs.encode(text, 'latin1'): the UTF-8 text back to its bytes. */
static xfiq_status pk_latin1(pk_state *s, size_t at, pk_obj *str, pk_obj *out)
{
    if (!pk_budget(s, str->len))
        return pk_err(s, at, "_codecs.encode: the converted payloads would exceed the file's size "
                             "(a memoised string decoded again and again: amplification refused)");
    s->owned_bytes += str->len;
    uint8_t *o = malloc(str->len ? str->len : 1);
    if (!o)
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", s->name);
    size_t n = 0;
    for (size_t i = 0; i < str->len;) {
        uint8_t c = str->ptr[i];
        if (c < 0x80) {
            o[n++] = c;
            i++;
        } else if ((c & 0xE0) == 0xC0 && i + 1 < str->len && (str->ptr[i + 1] & 0xC0) == 0x80 &&
                   c <= 0xC3 && c >= 0xC2) {
            o[n++] = (uint8_t)(((c & 0x1F) << 6) | (str->ptr[i + 1] & 0x3F));
            i += 2;
        } else {
            free(o);
            return pk_err(s, at, "_codecs.encode: text is not latin-1 (code point above 255 or bad UTF-8)");
        }
    }
    out->owned = o;
    out->ptr = o;
    out->len = n;
    return XFIQ_OK;
}

static xfiq_status pk_reduce(pk_state *s, size_t at)
{
    pk_obj *args = NULL, *fn = NULL;
    XFIQ_TRY(pk_pop(s, at, &args));
    XFIQ_TRY(pk_pop(s, at, &fn));
    if (args->type != PK_TUPLE)
        return pk_err(s, at, "REDUCE arguments are not a tuple");
    pk_obj *o = pk_new(s, PK_BYTES);
    if (!o)
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", s->name);
    if (fn->type == PK_CALL_BYTES) {
        if (args->n != 0)
            return pk_err(s, at, "bytes() with arguments is not supported");
        o->ptr = (const uint8_t *)"";
        return pk_push(s, o);
    }
    if (fn->type != PK_CALL_ENCODE)
        return pk_err(s, at, "REDUCE of something other than _codecs.encode or bytes");
    if (args->n != 2 || args->items[0]->type != PK_STR || args->items[1]->type != PK_STR)
        return pk_err(s, at, "_codecs.encode needs (str, encoding)");
    const pk_obj *enc = args->items[1];
    if (!((enc->len == 6 && !memcmp(enc->ptr, "latin1", 6)) ||
          (enc->len == 7 && !memcmp(enc->ptr, "latin-1", 7)) ||
          (enc->len == 10 && !memcmp(enc->ptr, "iso-8859-1", 10))))
        return pk_err(s, at, "_codecs.encode with an encoding other than latin1");
    XFIQ_TRY(pk_latin1(s, at, args->items[0], o));
    return pk_push(s, o);
}

/* Text INT (protocol 0/1 bools are "I01\n" / "I00\n"). */
static xfiq_status pk_text_int(pk_state *s, size_t at)
{
    const uint8_t *nl = memchr(s->buf + s->pos, '\n', s->len - s->pos);
    if (!nl)
        return pk_err(s, at, "truncated INT (no newline)");
    size_t n = (size_t)(nl - (s->buf + s->pos));
    char tmp[32];
    if (n == 0 || n >= sizeof(tmp))
        return pk_err(s, at, "bad INT text");
    memcpy(tmp, s->buf + s->pos, n);
    tmp[n] = 0;
    s->pos += n + 1;
    pk_obj *o = pk_new(s, PK_INT);
    if (!o)
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", s->name);
    if (!strcmp(tmp, "01") || !strcmp(tmp, "00")) {
        o->type = PK_BOOL;
        o->ival = tmp[1] == '1';
    } else if (!xfiq_parse_i64(tmp, &o->ival))
        return pk_err(s, at, "bad INT text");
    return pk_push(s, o);
}

static xfiq_status pk_run(pk_state *s, pk_obj **result)
{
    while (s->pos < s->len) {
        size_t at = s->pos;
        uint8_t op = s->buf[s->pos++];
        switch (op) {
        case 0x80: /* PROTO */
            XFIQ_TRY(pk_need(s, at, 1));
            if (s->buf[s->pos] > 5)
                return pk_err(s, at, "pickle protocol above 5");
            s->pos++;
            break;
        case 0x95: { /* FRAME: only a size hint */
            XFIQ_TRY(pk_need(s, at, 8));
            uint64_t n = pk_le(s->buf + s->pos, 8);
            s->pos += 8;
            if (n > s->len - s->pos)
                return pk_err(s, at, "truncated (FRAME runs past the end of the file)");
            break;
        }
        case '(':
            XFIQ_TRY(xfiq_grow((void **)&s->marks, &s->cap_marks, s->n_marks + 1, sizeof(size_t)));
            s->marks[s->n_marks++] = s->sp;
            break;
        case ']': XFIQ_TRY(pk_push(s, pk_new(s, PK_LIST))); break;
        case ')': XFIQ_TRY(pk_push(s, pk_new(s, PK_TUPLE))); break;
        case 'l': XFIQ_TRY(pk_collect(s, at, PK_LIST, 0)); break;
        case 't': XFIQ_TRY(pk_collect(s, at, PK_TUPLE, 0)); break;
        case 'e': XFIQ_TRY(pk_collect(s, at, PK_LIST, 1)); break;
        case 0x85: XFIQ_TRY(pk_tuple_n(s, at, 1)); break;
        case 0x86: XFIQ_TRY(pk_tuple_n(s, at, 2)); break;
        case 0x87: XFIQ_TRY(pk_tuple_n(s, at, 3)); break;
        case 'a': {
            pk_obj *item = NULL, *list = NULL;
            XFIQ_TRY(pk_pop(s, at, &item));
            XFIQ_TRY(pk_pop(s, at, &list));
            if (list->type != PK_LIST)
                return pk_err(s, at, "APPEND to something that is not a list");
            XFIQ_TRY(pk_append(s, list, item));
            XFIQ_TRY(pk_push(s, list));
            break;
        }
        case 'T': { /* BINSTRING: Python 2 str = raw bytes */
            XFIQ_TRY(pk_need(s, at, 4));
            int32_t n = (int32_t)pk_le(s->buf + s->pos, 4);
            s->pos += 4;
            if (n < 0)
                return pk_err(s, at, "BINSTRING with a negative length");
            XFIQ_TRY(pk_blob(s, at, PK_BYTES, (size_t)n));
            break;
        }
        case 'U':
        case 'C': /* SHORT_BINSTRING, SHORT_BINBYTES */
            XFIQ_TRY(pk_need(s, at, 1));
            s->pos++;
            XFIQ_TRY(pk_blob(s, at, PK_BYTES, s->buf[s->pos - 1]));
            break;
        case 'B':
        case 'X': /* BINBYTES, BINUNICODE */
            XFIQ_TRY(pk_need(s, at, 4));
            s->pos += 4;
            XFIQ_TRY(pk_blob(s, at, op == 'B' ? PK_BYTES : PK_STR, (size_t)pk_le(s->buf + s->pos - 4, 4)));
            break;
        case 0x8e:
        case 0x8d: { /* BINBYTES8, BINUNICODE8 */
            XFIQ_TRY(pk_need(s, at, 8));
            uint64_t n = pk_le(s->buf + s->pos, 8);
            s->pos += 8;
            if (n > s->len)
                return pk_err(s, at, "truncated (length runs past the end of the file)");
            XFIQ_TRY(pk_blob(s, at, op == 0x8e ? PK_BYTES : PK_STR, (size_t)n));
            break;
        }
        case 0x8c: /* SHORT_BINUNICODE */
            XFIQ_TRY(pk_need(s, at, 1));
            s->pos++;
            XFIQ_TRY(pk_blob(s, at, PK_STR, s->buf[s->pos - 1]));
            break;
        case 0x88:
        case 0x89: {
            pk_obj *o = pk_new(s, PK_BOOL);
            if (o)
                o->ival = op == 0x88;
            XFIQ_TRY(pk_push(s, o));
            break;
        }
        case 'N': XFIQ_TRY(pk_push(s, pk_new(s, PK_NONE))); break;
        case 'I': XFIQ_TRY(pk_text_int(s, at)); break;
        case 'J':
        case 'K':
        case 'M': {
            int n = op == 'J' ? 4 : op == 'K' ? 1 : 2;
            XFIQ_TRY(pk_need(s, at, (size_t)n));
            pk_obj *o = pk_new(s, PK_INT);
            if (o) {
                uint64_t v = pk_le(s->buf + s->pos, n);
                o->ival = op == 'J' ? (int64_t)(int32_t)v : (int64_t)v;
            }
            s->pos += (size_t)n;
            XFIQ_TRY(pk_push(s, o));
            break;
        }
        case 'q':
            XFIQ_TRY(pk_need(s, at, 1));
            XFIQ_TRY(pk_memo_put(s, at, s->buf[s->pos++]));
            break;
        case 'r':
            XFIQ_TRY(pk_need(s, at, 4));
            s->pos += 4;
            XFIQ_TRY(pk_memo_put(s, at, pk_le(s->buf + s->pos - 4, 4)));
            break;
        case 0x94: XFIQ_TRY(pk_memo_put(s, at, s->memo_next++)); break;
        case 'h':
            XFIQ_TRY(pk_need(s, at, 1));
            XFIQ_TRY(pk_memo_get(s, at, s->buf[s->pos++]));
            break;
        case 'j':
            XFIQ_TRY(pk_need(s, at, 4));
            s->pos += 4;
            XFIQ_TRY(pk_memo_get(s, at, pk_le(s->buf + s->pos - 4, 4)));
            break;
        case 'c': { /* GLOBAL "module\nname\n" */
            const uint8_t *p = s->buf + s->pos, *end = s->buf + s->len;
            const uint8_t *n1 = memchr(p, '\n', (size_t)(end - p));
            const uint8_t *n2 = n1 ? memchr(n1 + 1, '\n', (size_t)(end - n1 - 1)) : NULL;
            if (!n2)
                return pk_err(s, at, "truncated GLOBAL");
            s->pos = (size_t)(n2 + 1 - s->buf);
            XFIQ_TRY(pk_global(s, at, (const char *)p, (size_t)(n1 - p), (const char *)n1 + 1,
                               (size_t)(n2 - n1 - 1)));
            break;
        }
        case 0x93: { /* STACK_GLOBAL */
            pk_obj *nm = NULL, *mod = NULL;
            XFIQ_TRY(pk_pop(s, at, &nm));
            XFIQ_TRY(pk_pop(s, at, &mod));
            if (nm->type != PK_STR || mod->type != PK_STR)
                return pk_err(s, at, "STACK_GLOBAL needs two strings");
            XFIQ_TRY(pk_global(s, at, (const char *)mod->ptr, mod->len, (const char *)nm->ptr,
                               nm->len));
            break;
        }
        case 'R': XFIQ_TRY(pk_reduce(s, at)); break;
        case '.':
            if (s->n_marks)
                return pk_err(s, at, "STOP with an open MARK");
            XFIQ_TRY(pk_pop(s, at, result));
            if (s->sp)
                return pk_err(s, at, "STOP with more than one object on the stack");
            if (s->pos != s->len)
                return xfiq_error(XFIQ_ERR_FORMAT, "%s: offset %zu: %zu bytes after the pickle's STOP",
                                  s->name, s->pos, s->len - s->pos);
            return XFIQ_OK;
        default: {
            char msg[96];
            snprintf(msg, sizeof(msg), "unknown or unsupported pickle opcode 0x%02x ('%c')", op,
                     op >= 32 && op < 127 ? op : '?');
            return pk_err(s, at, msg);
        }
        }
    }
    return xfiq_error(XFIQ_ERR_FORMAT, "%s: offset %zu: truncated (no STOP opcode at the end)",
                      s->name, s->len);
}

static void pk_state_free(pk_state *s, int keep_owned)
{
    for (size_t i = 0; i < s->n_all; i++) {
        if (!keep_owned)
            free(s->all[i]->owned);
        free(s->all[i]->items);
        free(s->all[i]);
    }
    free(s->all);
    free(s->stack);
    free(s->marks);
    free(s->memo);
}

void xfiq_pickle_bin_free(xfiq_pickle_bin *b)
{
    if (b->owned)
        for (int64_t i = 0; i < b->n_images; i++)
            free(b->owned[i]);
    free(b->owned);
    free(b->data);
    free(b->len);
    free(b->labels);
    memset(b, 0, sizeof(*b));
}

static int is_seq(const pk_obj *o) { return o->type == PK_LIST || o->type == PK_TUPLE; }

xfiq_status xfiq_pickle_read_bin(const uint8_t *buf, size_t len, const char *name,
                                 xfiq_pickle_bin *out)
{
    memset(out, 0, sizeof(*out));
    if (!len)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: empty file", name);
    pk_state s;
    memset(&s, 0, sizeof(s));
    s.buf = buf;
    s.len = len;
    s.name = name;
    pk_obj *root = NULL;
    xfiq_status st = pk_run(&s, &root);
    if (st == XFIQ_OK && (!is_seq(root) || root->n != 2 || !is_seq(root->items[0]) ||
                          !is_seq(root->items[1])))
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: expected a pair (bins, issame_list) of lists", name);
    if (st == XFIQ_OK) {
        const pk_obj *bins = root->items[0], *same = root->items[1];
        out->n_images = (int64_t)bins->n;
        out->n_labels = (int64_t)same->n;
        out->data = malloc((bins->n ? bins->n : 1) * sizeof(uint8_t *));
        out->len = malloc((bins->n ? bins->n : 1) * sizeof(size_t));
        out->owned = calloc(bins->n ? bins->n : 1, sizeof(uint8_t *));
        out->labels = malloc(same->n ? same->n : 1);
        if (!out->data || !out->len || !out->owned || !out->labels)
            st = xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", name);
        for (size_t i = 0; st == XFIQ_OK && i < bins->n; i++) {
            pk_obj *o = bins->items[i];
            if (o->type != PK_BYTES)
                st = xfiq_error(XFIQ_ERR_FORMAT, "%s: bins[%zu] is not a byte string", name, i);
            else {
                out->data[i] = o->ptr;
                out->len[i] = o->len;
            }
        }
        for (size_t i = 0; st == XFIQ_OK && i < same->n; i++) {
            const pk_obj *o = same->items[i];
            if ((o->type != PK_BOOL && o->type != PK_INT) || o->ival < 0 || o->ival > 1)
                st = xfiq_error(XFIQ_ERR_FORMAT, "%s: issame_list[%zu] is not a bool (or 0/1)", name, i);
            else
                out->labels[i] = (uint8_t)o->ival;
        }
        if (st == XFIQ_OK && out->n_images != 2 * out->n_labels)
            st = xfiq_error(XFIQ_ERR_FORMAT, "%s: %lld images for %lld pairs (expected 2 per pair)",
                            name, (long long)out->n_images, (long long)out->n_labels);
        /* hand the converted payloads over; shared memo objects appear once */
        if (st == XFIQ_OK) {
            for (size_t i = 0; i < bins->n; i++) {
                pk_obj *o = bins->items[i];
                if (o->owned) {
                    out->owned[i] = o->owned;
                    o->owned = NULL;
                }
            }
            for (size_t i = 0; i < bins->n; i++) /* repeated (memoised) payloads */
                if (!out->owned[i] && bins->items[i]->ptr && out->data[i] &&
                    (out->data[i] < buf || out->data[i] >= buf + len)) {
                    if (!pk_budget(&s, out->len[i])) {
                        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: bins[%zu] repeats a converted payload: the copies "
                                        "would exceed the file's size (memo amplification refused)", name, i);
                        break;
                    }
                    s.owned_bytes += out->len[i];
                    uint8_t *c = malloc(out->len[i] ? out->len[i] : 1);
                    if (!c) {
                        st = xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", name);
                        break;
                    }
                    memcpy(c, out->data[i], out->len[i]);
                    out->owned[i] = c;
                    out->data[i] = c;
                }
        }
    }
    pk_state_free(&s, 0);
    if (st != XFIQ_OK)
        xfiq_pickle_bin_free(out);
    return st;
}
