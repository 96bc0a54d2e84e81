/*
 * Unit tests for the SSI parser (modules/ssi_parse.c): what it reports for documents with
 * commands, parameters, quotes and escapes, near-misses of "<!--#", and each broken form with
 * nginx's wording; and that feeding a document in pieces, cut anywhere (every single cut and
 * byte by byte), reports the same text and commands as feeding it whole. Linked with
 * libmoongate.a (make unit).
 */
#include <stdio.h>
#include <stdlib.h>

#include "ssi.h"

#include "tap.h"

/* A transcript: text as it is, a command as {name|param=value|...}, a broken one as
 * {!error}. */
typedef struct {
    char buf[8192];
    size_t len;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->len + n < sizeof(o->buf)) {
        memcpy(o->buf + o->len, s, n);
        o->len += n;
        o->buf[o->len] = '\0';
    }
}

static void puts_(out_t *o, const char *s)
{
    put(o, s, strlen(s));
}

static void feed(mg_ssi_parser_t *p, const char *d, size_t n, out_t *o)
{
    /* a heap copy of exactly n bytes, so ASan sees reads past the piece */
    char *copy = malloc(n ? n : 1);
    memcpy(copy, d, n);
    size_t i = 0;
    for (;;) {
        const char *s, *e;
        int rc = mg_ssi_parse(p, copy, n, &i, &s, &e);
        if (rc == MG_SSI_AGAIN) {
            break;
        }
        if (rc == MG_SSI_TEXT || rc == MG_SSI_PREFIX) {
            put(o, s, (size_t)(e - s));
        } else if (rc == MG_SSI_COMMAND) {
            puts_(o, "{");
            puts_(o, p->command);
            for (size_t k = 0; k < p->nparams; k++) {
                puts_(o, "|");
                put(o, p->params[k].name.data, p->params[k].name.len);
                puts_(o, "=");
                put(o, p->params[k].value.data, p->params[k].value.len);
            }
            puts_(o, "}");
        } else {
            puts_(o, "{!");
            puts_(o, p->error);
            puts_(o, "}");
        }
    }
    free(copy);
}

static void finish(mg_ssi_parser_t *p, out_t *o)
{
    const char *s, *e;
    if (mg_ssi_parse_end(p, &s, &e) == MG_SSI_PREFIX) {
        put(o, s, (size_t)(e - s));
    }
}

static mg_pool_t *pool;

/* The transcript of doc fed in pieces cut at the given offsets (sorted, 0 = none). */
static void run(const char *doc, const size_t *cuts, size_t ncuts, size_t value_len, out_t *o)
{
    mg_ssi_parser_t p;
    mg_ssi_parser_init(&p, pool, value_len);
    o->len = 0;
    o->buf[0] = '\0';
    size_t at = 0, n = strlen(doc);
    for (size_t k = 0; k < ncuts; k++) {
        feed(&p, doc + at, cuts[k] - at, o);
        at = cuts[k];
    }
    feed(&p, doc + at, n - at, o);
    finish(&p, o);
}

static const struct {
    const char *doc;
    const char *want;
} cases[] = {
    {"plain text", "plain text"},
    {"a<!--#echo var=\"uri\" -->b", "a{echo|var=uri}b"},
    {"<!--#echo var=\"uri\"-->", "{echo|var=uri}"},
    {"<!--#  echo   var = 'x'  b=\"y\" -->", "{echo|var=x|b=y}"},
    {"<!--#echo\nvar=\n\"x\" -->", "{echo|var=x}"},
    {"<!--#set var=\"a\" value=\"q\\\"q \\$x \\\\\" -->", "{set|var=a|value=q\\\"q \\$x \\\\}"},
    {"<!--#set value='it\\'s' -->", "{set|value=it\\'s}"},
    {"<!-- comment --> <!--x--> <!- <!--", "<!-- comment --> <!--x--> <!- <!--"},
    {"<<!--#else -->", "<{else}"},
    {"<!--#endif-->x", "{endif}x"},
    {"<!--#=echo -->", "{=echo}"},
    {"<!--#echo var=uri -->x",
     "{!unexpected \"u\" symbol before value of \"var\" parameter in \"echo\" SSI command}x"},
    {"<!--#echo var=\"uri\"x=\"1\" -->",
     "{!unexpected \"x\" symbol after \"uri\" value of \"var\" parameter in \"echo\" SSI "
     "command}"},
    {"<!--#echo var \"uri\" -->",
     "{!unexpected \"\"\" symbol after \"var\" parameter in \"echo\" SSI command}"},
    {"<!--#echo var=\"uri\" - -> x -->y", "{!unexpected \" \" symbol in \"echo\" SSI command}y"},
    {"<!--#abcdefghijabcdefghijabcdefghijabcdefghij -->", "{!the \"abcdefghijabcdefghijabcdefghijab"
                                                          "c...\" SSI command is too long}"},
    {"<!--#echo abcdefghijabcdefghijabcdefghijabcdefghij=\"1\" -->",
     "{!too long \"abcdefghijabcdefghijabcdefghijab"
     "c...\" parameter in \"echo\" SSI "
     "command}"},
    {"<!--#set value=\"0123456789abcdefX\" -->",
     "{!too long \"0123456789abcdefX...\" value of \"value\" parameter in \"set\" SSI "
     "command}"},
    {"<!--#e a=\"1\" b=\"2\" c=\"3\" d=\"4\" e=\"5\" f=\"6\" g=\"7\" h=\"8\" i=\"9\" j=\"10\" "
     "k=\"11\" l=\"12\" m=\"13\" n=\"14\" o=\"15\" p=\"16\" q=\"17\" -->",
     "{!too many SSI command parameters: \"e\"}"},
    {"<!--#echo =\"x\" -->",
     "{!unexpected \"-\" symbol after \"=\"x\"\" parameter in \"echo\" SSI command}"},
    {"<!--#echo var=\"uri\" =  -->",
     "{!unexpected \"-\" symbol after \"=\" parameter in \"echo\" SSI command}"},
    {"before <!--#echo var=\"uri\"", "before "},
    {"tail <!--", "tail <!--"},
    {"tail <!--#", "tail "},
};

int main(void)
{
    pool = mg_pool_create(4096);
    out_t whole, piece;
    for (size_t i = 0; i < mg_nelems(cases); i++) {
        run(cases[i].doc, NULL, 0, 16, &whole);
        is_str(whole.buf, cases[i].want, "case %zu whole", i);
        /* every single cut */
        size_t n = strlen(cases[i].doc);
        int same = 1;
        for (size_t c = 1; c < n && same; c++) {
            run(cases[i].doc, &c, 1, 16, &piece);
            same = strcmp(piece.buf, whole.buf) == 0;
            if (!same) {
                printf("# cut at %zu: %s\n", c, piece.buf);
            }
        }
        ok(same, "case %zu cut anywhere", i);
        /* byte by byte */
        size_t *cuts = malloc((n ? n : 1) * sizeof(size_t));
        for (size_t c = 1; c < n; c++) {
            cuts[c - 1] = c;
        }
        run(cases[i].doc, cuts, n ? n - 1 : 0, 16, &piece);
        free(cuts);
        is_str(piece.buf, whole.buf, "case %zu byte by byte", i);
    }
    mg_pool_destroy(pool);
    return done_testing();
}
