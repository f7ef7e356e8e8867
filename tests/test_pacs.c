/* test_pacs.c - the DICOMweb client: the streaming multipart parser on
 * crafted input (every split of a message into two chunks, byte by byte,
 * near-miss delimiters, padding, preamble and epilogue, truncation, junk,
 * random bodies), the header helpers, `spinemet pull` against a fake server
 * on 127.0.0.1 that answers badly or stalls, and `spinemet push` / `pull` end to end
 * against a real Orthanc started in a private network namespace
 * (tests/support/pacs_orthanc.sh; docs/pacs.md). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/sp_net.h"
#include "support/test_util.h"

/* ---- a receiver that records the parts ---------------------------------- */

#define MAXP 8
typedef struct rec {
    int nparts, begun;
    char headers[MAXP][256];
    uint8_t *body[MAXP];
    size_t len[MAXP];
    int stop_at_part; /* part_begin of this part (1-based) aborts; 0 never */
} rec;

static int r_begin(void *u, const char *h)
{
    rec *r = u;
    cr_assert_lt(r->begun, MAXP);
    cr_assert_eq(r->begun, r->nparts, "part_begin twice without part_end");
    if (r->stop_at_part && r->begun + 1 == r->stop_at_part) return 1;
    snprintf(r->headers[r->begun], sizeof r->headers[0], "%s", h);
    r->body[r->begun] = NULL, r->len[r->begun] = 0;
    r->begun++;
    return 0;
}

static int r_data(void *u, const uint8_t *p, size_t n)
{
    rec *r = u;
    int k = r->begun - 1;
    cr_assert_geq(k, 0, "body bytes outside a part");
    cr_assert_gt(n, 0);
    r->body[k] = realloc(r->body[k], r->len[k] + n);
    memcpy(r->body[k] + r->len[k], p, n);
    r->len[k] += n;
    return 0;
}

static int r_end(void *u)
{
    rec *r = u;
    cr_assert_eq(r->begun, r->nparts + 1, "part_end without part_begin");
    r->nparts++;
    return 0;
}

static void rec_free(rec *r)
{
    for (int i = 0; i < MAXP; i++) free(r->body[i]);
    memset(r, 0, sizeof *r);
}

/* Feeds msg in chunks cut at the given offsets (ascending); returns the
 * status of the feeds, then of finish. */
static sp_status parse_cuts(const char *boundary, const void *msg, size_t len, const size_t *cuts, int ncuts, rec *r,
                            sp_err *err)
{
    sp_mp_callbacks cb = {r_begin, r_data, r_end, r};
    sp_mp_parser *p = sp_mp_new(boundary, &cb);
    cr_assert_not_null(p);
    size_t at = 0;
    sp_status st = SP_OK;
    for (int i = 0; i <= ncuts && st == SP_OK; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        st = sp_mp_feed(p, (const uint8_t *)msg + at, to - at, err);
        at = to;
    }
    if (st == SP_OK) st = sp_mp_finish(p, err);
    if (st == SP_OK) cr_assert_eq(sp_mp_parts(p), r->nparts);
    sp_mp_free(p);
    return st;
}

static sp_status parse_whole(const char *boundary, const char *msg, rec *r, sp_err *err)
{
    return parse_cuts(boundary, msg, strlen(msg), NULL, 0, r, err);
}

static void expect_part(const rec *r, int k, const char *headers, const void *body, size_t len)
{
    cr_assert_str_eq(r->headers[k], headers, "part %d headers", k);
    cr_assert_eq(r->len[k], len, "part %d: %zu bytes, expected %zu", k, r->len[k], len);
    if (len) cr_assert_eq(memcmp(r->body[k], body, len), 0, "part %d body differs", k);
}

/* Orthanc's shape: no preamble, two parts with Content-Type and Length. */
#define B "7eb81ae7-5a40-4cdb"
static const char two_parts[] = "--" B "\r\nContent-Type: application/dicom\r\nContent-Length: 5\r\n\r\n"
                                "ab\r\nc"
                                "\r\n--" B "\r\nContent-Type: application/dicom\r\n\r\n"
                                "--" B "x\r\n-"
                                "\r\n--" B "--\r\n";

TestSuite(pacs, .timeout = 60);

Test(pacs, multipart_two_parts)
{
    rec r = {0};
    sp_err err = {0};
    cr_assert_eq(parse_whole(B, two_parts, &r, &err), SP_OK, "%s", err.msg);
    cr_assert_eq(r.nparts, 2);
    expect_part(&r, 0, "Content-Type: application/dicom\r\nContent-Length: 5\r\n", "ab\r\nc", 5);
    expect_part(&r, 1, "Content-Type: application/dicom\r\n", "--" B "x\r\n-", strlen(B) + 6);
    rec_free(&r);
}

/* The same message cut into two chunks at every offset, and into three at
 * every pair of offsets near the delimiters, gives the same parts. */
Test(pacs, multipart_every_split)
{
    size_t len = strlen(two_parts);
    for (size_t a = 0; a <= len; a++) {
        for (size_t b = a; b <= len; b += (b > a + 40 ? 7 : 1)) {
            rec r = {0};
            sp_err err = {0};
            size_t cuts[2] = {a, b};
            cr_assert_eq(parse_cuts(B, two_parts, len, cuts, 2, &r, &err), SP_OK, "cuts %zu,%zu: %s", a, b, err.msg);
            cr_assert_eq(r.nparts, 2, "cuts %zu,%zu", a, b);
            expect_part(&r, 0, "Content-Type: application/dicom\r\nContent-Length: 5\r\n", "ab\r\nc", 5);
            expect_part(&r, 1, "Content-Type: application/dicom\r\n", "--" B "x\r\n-", strlen(B) + 6);
            rec_free(&r);
        }
    }
}

Test(pacs, multipart_byte_by_byte)
{
    size_t len = strlen(two_parts), cuts[512];
    cr_assert_lt(len, 512);
    for (size_t i = 0; i + 1 < len; i++) cuts[i] = i + 1;
    rec r = {0};
    sp_err err = {0};
    cr_assert_eq(parse_cuts(B, two_parts, len, cuts, (int)len - 1, &r, &err), SP_OK, "%s", err.msg);
    expect_part(&r, 1, "Content-Type: application/dicom\r\n", "--" B "x\r\n-", strlen(B) + 6);
    rec_free(&r);
}

/* Bytes that start like a delimiter but are not one stay in the body: CR
 * runs, CRLF "--" + a prefix of the boundary, a delimiter without its CRLF. */
Test(pacs, multipart_near_misses)
{
    static const char body[] = "\r\r\n\r\n-\r\n--\r\n--7eb\r\r\n--7eb81ae7-5a40-4cd\r\n--7eb81ae7-5a40-4cdX--" B "\r";
    char msg[512];
    snprintf(msg, sizeof msg, "--" B "\r\n\r\n%s\r\n--" B "--", body);
    size_t len = strlen(msg);
    for (size_t a = 0; a <= len; a++) {
        rec r = {0};
        sp_err err = {0};
        cr_assert_eq(parse_cuts(B, msg, len, &a, 1, &r, &err), SP_OK, "cut %zu: %s", a, err.msg);
        cr_assert_eq(r.nparts, 1);
        expect_part(&r, 0, "", body, strlen(body));
        rec_free(&r);
    }
}

/* Preamble and epilogue are ignored; padding after a delimiter is allowed;
 * a quoted boundary with characters RFC 2046 permits. */
Test(pacs, multipart_preamble_padding_epilogue)
{
    static const char msg[] = "This is a preamble.\r\n--a'()+_,-./:=? b \t\r\nX-A: 1\r\n\r\nbody\r\n--a'()+_,-./:=? b--  \r\n"
                              "epilogue --a'()+_,-./:=? b\r\n";
    rec r = {0};
    sp_err err = {0};
    cr_assert_eq(parse_whole("a'()+_,-./:=? b", msg, &r, &err), SP_OK, "%s", err.msg);
    cr_assert_eq(r.nparts, 1);
    expect_part(&r, 0, "X-A: 1\r\n", "body", 4);
    rec_free(&r);
}

Test(pacs, multipart_empty_body_and_no_headers)
{
    rec r = {0};
    sp_err err = {0};
    cr_assert_eq(parse_whole("b", "--b\r\n\r\n\r\n--b\r\nA: x\r\n\r\n\r\n--b--", &r, &err), SP_OK, "%s", err.msg);
    cr_assert_eq(r.nparts, 2);
    expect_part(&r, 0, "", "", 0);
    expect_part(&r, 1, "A: x\r\n", "", 0);
    rec_free(&r);
}

Test(pacs, multipart_malformed)
{
    rec r = {0};
    sp_err err = {0};
    /* truncated in a body: parts so far stay complete, finish says truncated */
    cr_assert_eq(parse_whole("b", "--b\r\n\r\none\r\n--b\r\n\r\ntw", &r, &err), SP_EDICOM);
    cr_assert_eq(r.nparts, 1);
    cr_assert(strstr(err.msg, "truncated"), "%s", err.msg);
    rec_free(&r);
    /* junk right after a delimiter */
    cr_assert_eq(parse_whole("b", "--b\r\n\r\none\r\n--bogus\r\n", &r, &err), SP_EDICOM);
    cr_assert(strstr(err.msg, "junk"), "%s", err.msg);
    rec_free(&r);
    /* no delimiter at all */
    cr_assert_eq(parse_whole("b", "{\"error\": 1}", &r, &err), SP_EDICOM);
    cr_assert_eq(r.nparts, 0);
    rec_free(&r);
    /* endless headers */
    char *big = malloc(40000);
    strcpy(big, "--b\r\n");
    for (int i = 0; i < 2500; i++) strcat(big, "X-Y: 1234567\r\n"); /* 35 KB */
    cr_assert_eq(parse_whole("b", big, &r, &err), SP_EDICOM);
    cr_assert(strstr(err.msg, "16 KB"), "%s", err.msg);
    free(big);
    rec_free(&r);
    /* the receiver stops the parse */
    r.stop_at_part = 2;
    cr_assert_eq(parse_whole(B, two_parts, &r, &err), SP_EINTERNAL);
    cr_assert_eq(r.nparts, 1);
    rec_free(&r);
    /* bad boundaries */
    sp_mp_callbacks cb = {r_begin, r_data, r_end, &r};
    cr_assert_null(sp_mp_new("", &cb));
    cr_assert_null(sp_mp_new("a\r\nb", &cb));
}

/* Random binary bodies (with CR, LF and '-' frequent), random chunking. */
Test(pacs, multipart_random)
{
    unsigned seed = 12345;
    static const char alphabet[] = "\r\n-xb";
    for (int round = 0; round < 300; round++) {
        uint8_t bodies[3][300], msg[1200];
        size_t blen[3], len = 0;
        int nparts = 1 + round % 3;
        for (int k = 0; k < nparts; k++) {
            blen[k] = (size_t)(rand_r(&seed) % 300);
            for (size_t i = 0; i < blen[k]; i++)
                bodies[k][i] = rand_r(&seed) % 3 ? (uint8_t)alphabet[rand_r(&seed) % 5] : (uint8_t)rand_r(&seed);
            /* the body must not hold the delimiter: "--bnd" never appears,
             * as 'n' and 'd' are not in the alphabet */
            len += (size_t)snprintf((char *)msg + len, sizeof msg - len, "%s--bnd\r\n\r\n", k ? "\r\n" : "");
            memcpy(msg + len, bodies[k], blen[k]);
            len += blen[k];
        }
        len += (size_t)snprintf((char *)msg + len, sizeof msg - len, "\r\n--bnd--\r\n");
        size_t cuts[6];
        int ncuts = rand_r(&seed) % 6;
        for (int i = 0; i < ncuts; i++) cuts[i] = (size_t)rand_r(&seed) % (len + 1);
        for (int i = 1; i < ncuts; i++) /* insertion sort */
            for (int j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                size_t t = cuts[j];
                cuts[j] = cuts[j - 1], cuts[j - 1] = t;
            }
        rec r = {0};
        sp_err err = {0};
        cr_assert_eq(parse_cuts("bnd", msg, len, cuts, ncuts, &r, &err), SP_OK, "round %d: %s", round, err.msg);
        cr_assert_eq(r.nparts, nparts, "round %d", round);
        for (int k = 0; k < nparts; k++) expect_part(&r, k, "", bodies[k], blen[k]);
        rec_free(&r);
    }
}

Test(pacs, header_helpers)
{
    char v[128];
    const char *ct = "multipart/related; type=\"application/dicom\"; boundary=abc-123";
    cr_assert(sp_mp_param(ct, "boundary", v, sizeof v));
    cr_assert_str_eq(v, "abc-123");
    cr_assert(sp_mp_param(ct, "TYPE", v, sizeof v));
    cr_assert_str_eq(v, "application/dicom");
    cr_assert(sp_mp_param("multipart/related;boundary = \"a \\\"q\\\" ;b\" ; type=x", "boundary", v, sizeof v));
    cr_assert_str_eq(v, "a \"q\" ;b");
    cr_assert(sp_mp_param("multipart/related;boundary = \"a \\\"q\\\" ;b\" ; type=x", "type", v, sizeof v));
    cr_assert_str_eq(v, "x");
    cr_assert_not(sp_mp_param("multipart/related; type=x", "boundary", v, sizeof v));
    cr_assert_not(sp_mp_param("multipart/related; boundary=0123456789", "boundary", v, 5), "too long for out");
    const char *h = "Content-Type:  application/dicom \r\ncontent-length: 12\r\n";
    cr_assert(sp_mp_header(h, "content-type", v, sizeof v));
    cr_assert_str_eq(v, "application/dicom");
    cr_assert(sp_mp_header(h, "Content-Length", v, sizeof v));
    cr_assert_str_eq(v, "12");
    cr_assert_not(sp_mp_header(h, "Content", v, sizeof v));
}

/* ---- a fake server that answers badly ------------------------------------ */

/* Serves answers[i] to the i-th connection on 127.0.0.1 (after reading the
 * request's headers), then closes it; after the last one it stalls (keeps
 * the connection open, sends nothing). Returns the port; *pid is the child. */
static int fake_server(const char *const *answers, int n, pid_t *pid)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(ls, 0);
    cr_assert_eq(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(ls, 4), 0);
    cr_assert_eq(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
    fflush(NULL);
    *pid = fork();
    cr_assert_geq(*pid, 0);
    if (*pid == 0) {
        alarm(120); /* never outlive the test by much */
        for (int i = 0; i < n; i++) {
            int c = accept(ls, NULL, NULL);
            if (c < 0) _exit(1);
            struct timeval tv = {5, 0};
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            char req[8192];
            size_t got = 0;
            ssize_t k;
            while (got < sizeof req - 1 && (k = read(c, req + got, sizeof req - 1 - got)) > 0) {
                got += (size_t)k;
                req[got] = '\0';
                if (strstr(req, "\r\n\r\n")) break;
            }
            if (write(c, answers[i], strlen(answers[i])) < 0) _exit(1);
            if (i == n - 1) pause(); /* stall: killed by the test */
            close(c);
        }
        _exit(0);
    }
    close(ls);
    return ntohs(a.sin_port);
}

/* Runs spinemet, output into out; returns the exit code. */
static int run_out(const char *args, char *out, size_t n)
{
    char cmd[2048], tmpf[] = "/tmp/spinemet-pacs-out-XXXXXX";
    int fd = mkstemp(tmpf);
    cr_assert_geq(fd, 0);
    close(fd);
    snprintf(cmd, sizeof cmd, "timeout 60 %s %s > %s 2>&1", sp_test_binary(), args, tmpf);
    int rc = sp_test_system(cmd);
    FILE *f = fopen(tmpf, "rb");
    size_t len = f ? fread(out, 1, n - 1, f) : 0;
    out[len] = '\0';
    if (f) fclose(f);
    unlink(tmpf);
    return rc;
}

#define MP_HEAD "HTTP/1.1 200 OK\r\nContent-Type: multipart/related; type=\"application/dicom\"; boundary=b\r\n"
#define PART "--b\r\nContent-Type: application/dicom\r\n\r\nnot quite DICOM"

Test(pacs, bad_and_stalled_server)
{
    static const char *const answers[] = {
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
        MP_HEAD "Connection: close\r\n\r\n" PART, /* ends before the closing delimiter */
        "HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\nContent-Length: 9\r\n\r\nnot json!",
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
        MP_HEAD "Content-Length: 100000\r\n\r\n" PART, /* then silence */
    };
    char tmp[512], args[1200], out[8192];
    pid_t pid;
    int port = fake_server(answers, 5, &pid);
    sp_test_tmpdir(tmp, sizeof tmp);
    #define PULL(extra) snprintf(args, sizeof args, "pull http://127.0.0.1:%d/dicom-web -o %s/in " extra, port, tmp)

    PULL("--study 1.2.3");
    cr_expect_eq(run_out(args, out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "not multipart/related") && strstr(out, "application/json"), "%s", out);

    PULL("--study 1.2.3");
    cr_expect_eq(run_out(args, out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "truncated"), "%s", out);

    PULL("--modality CT");
    cr_expect_eq(run_out(args, out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "not a JSON array"), "%s", out);

    PULL("--modality CT");
    cr_expect_eq(run_out(args, out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "HTTP 500 Internal Server Error"), "%s", out);
    cr_expect(strstr(out, "dicom-web/studies:") && !strstr(out, "CT"), "the query string is not logged: %s", out);

    PULL("--study 1.2.3 --timeout 2");
    time_t t0 = time(NULL);
    cr_expect_eq(run_out(args, out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "curl error 28"), "a stalled transfer times out: %s", out);
    cr_expect_leq(time(NULL) - t0, 10, "took %ld s with --timeout 2", (long)(time(NULL) - t0));

    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    snprintf(args, sizeof args, "test \"$(ls -A %s/in)\" = .pull.lock", tmp);
    cr_expect_eq(sp_test_system(args), 0, "only the lock file is left in the output folder");
    sp_test_rmtree(tmp);
}

/* ---- end to end against Orthanc ------------------------------------------ */

/* Also in /usr/sbin (Orthanc, ip), which a non-login PATH may lack; the
 * script adds it to its PATH too. */
static bool on_path(const char *prog)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "PATH=\"$PATH:/usr/sbin:/sbin\" command -v %s >/dev/null 2>&1", prog);
    return sp_test_system(cmd) == 0;
}

/* The DICOMweb plugin's path, or false. */
static bool find_plugin(char *out, size_t n)
{
    static const char *const known[] = {"/usr/share/orthanc/plugins/libOrthancDicomWeb.so",
                                        "/usr/lib/orthanc/libOrthancDicomWeb.so"};
    struct stat sb;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (stat(known[i], &sb) == 0) return snprintf(out, n, "%s", known[i]), true;
    FILE *p = popen("dpkg -L orthanc-dicomweb 2>/dev/null | grep 'libOrthancDicomWeb\\.so' | head -n 1", "r");
    if (!p) return false;
    bool ok = fgets(out, (int)n, p) != NULL;
    pclose(p);
    if (ok) out[strcspn(out, "\n")] = '\0';
    return ok && out[0];
}

/* Missing packages fail the test in CI (scripts/install-deps.sh installs
 * them there) and skip it elsewhere. */
static void need(bool ok, const char *what)
{
    if (ok) return;
    const char *ci = getenv("CI");
    if (ci && !strcmp(ci, "true")) cr_assert_fail("%s (CI=true: scripts/install-deps.sh should have installed it)", what);
    cr_skip_test("%s: end-to-end PACS test skipped", what);
}

Test(pacs, orthanc_end_to_end, .timeout = 300)
{
    char plugin[512], tmp[512], cmd[4096], log[700];
    if (geteuid() != 0) cr_skip_test("not root (unshare -n needs it): end-to-end PACS test skipped");
    need(on_path("Orthanc"), "Orthanc not installed (Debian package orthanc)");
    need(find_plugin(plugin, sizeof plugin), "Orthanc's DICOMweb plugin not installed (orthanc-dicomweb)");
    need(on_path("curl") && on_path("ip") && on_path("unshare") && on_path("md5sum") && on_path("timeout"),
         "curl, ip, unshare, md5sum or timeout missing");
    if (sp_test_system("unshare -n true 2>/dev/null") != 0)
        cr_skip_test("unshare -n not permitted here: end-to-end PACS test skipped");
    sp_test_tmpdir(tmp, sizeof tmp);
    snprintf(log, sizeof log, "%s/e2e.log", tmp);
    snprintf(cmd, sizeof cmd, "timeout -k 5 240 unshare -n sh '%s/tests/support/pacs_orthanc.sh' '%s' '%s' '%s' > '%s' 2>&1",
             SP_SOURCE_DIR, tmp, sp_test_binary(), plugin, log);
    double t0 = (double)time(NULL);
    int rc = sp_test_system(cmd);
    FILE *f = fopen(log, "rb");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) fputs(line, stderr); /* the steps, and what failed */
    if (f) fclose(f);
    fprintf(stderr, "pacs_orthanc: %.0f s\n", (double)time(NULL) - t0);
    sp_test_rmtree(tmp);
    cr_assert_eq(rc, 0, "tests/support/pacs_orthanc.sh failed (exit %d); its output is above", rc);
}
