/* csv.c - RFC 4180 CSV field quoting and line splitting. */
#include "io/csv.h"

#include <string.h>

#include "core/status.h"

int xfiq_csv_needs_quotes(const char *s)
{
    if (!*s)
        return 0;
    if (strpbrk(s, ",\"\r\n"))
        return 1;
    size_t n = strlen(s);
    return s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t';
}

void xfiq_csv_write_field(FILE *fp, const char *s)
{
    if (!xfiq_csv_needs_quotes(s)) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

xfiq_status xfiq_csv_split(char *line, char **fields, int max_fields, int *nfields,
                           const char *where)
{
    const char *w = where ? where : "csv";
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    *nfields = 0;
    char *r = line; /* read position */
    for (;;) {
        if (*nfields == max_fields)
            return xfiq_error(XFIQ_ERR_FORMAT, "%s: more than %d fields", w, max_fields);
        char *start = r, *out = r;
        if (*r == '"') {
            r++;
            for (;;) {
                if (!*r)
                    return xfiq_error(XFIQ_ERR_FORMAT, "%s: column %ld: unterminated quote", w,
                                      (long)(start - line) + 1);
                if (*r == '"') {
                    if (r[1] == '"') {
                        *out++ = '"';
                        r += 2;
                        continue;
                    }
                    r++;
                    break;
                }
                *out++ = *r++;
            }
            if (*r && *r != ',')
                return xfiq_error(XFIQ_ERR_FORMAT, "%s: column %ld: text after a closing quote", w,
                                  (long)(r - line) + 1);
        } else {
            while (*r && *r != ',')
                r++;
            out = r;
        }
        int more = *r == ',';
        *out = '\0';
        fields[(*nfields)++] = start;
        if (!more)
            return XFIQ_OK;
        r++;
    }
}
