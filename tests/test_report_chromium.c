/* test_report_chromium.c - report.html renders in headless Chromium (Debian's
 * chromium, installed by scripts/install-deps.sh): the screenshot is not
 * blank, and the rendered DOM holds the summary table and every key image.
 * Skips with a message when chromium is not installed. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <png.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/test_util.h"

static char tmp[512];
static void setup(void) { sp_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { sp_test_rmtree(tmp); }
TestSuite(report_chromium, .init = setup, .fini = teardown, .timeout = 180);

#define SPEC                                                                                                     \
    "{\"seed\":3,\"anatomy\":{\"from\":\"T11\",\"to\":\"L3\"},\"scan\":{\"matrix\":[160,160],\"pixel_mm\":1.5},"  \
    "\"vertebrae\":{\"L1\":{\"collapse_pct\":40,\"lesion\":{\"type\":\"lytic\"}}}}"

static const char *chromium(void)
{
    static const char *const names[] = {"chromium", "chromium-browser", "google-chrome"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "command -v %s > /dev/null 2>&1", names[i]);
        if (sp_test_system(cmd) == 0) return names[i];
    }
    return NULL;
}

static void make_report(void)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "printf '%%s' '%s' > %s/spec.json && %s -q phantom %s/spec.json -o %s/ph && %s -q analyze %s/ph/dicom "
             "-o %s/out --no-dicom-out",
             SPEC, tmp, sp_test_binary(), tmp, tmp, sp_test_binary(), tmp, tmp);
    cr_assert_eq(sp_test_system(cmd), 0, "%s", cmd);
}

/* headless flags that work as root and without a display or D-Bus */
static void chrome_cmd(char *cmd, size_t n, const char *browser, const char *what)
{
    snprintf(cmd, n,
             "HOME=%s timeout 90 %s --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir=%s/profile "
             "--window-size=1280,2600 %s file://%s/out/report.html",
             tmp, browser, tmp, what, tmp);
}

Test(report_chromium, page_renders_with_table_and_images)
{
    const char *browser = chromium();
    if (!browser) cr_skip_test("chromium not installed (scripts/install-deps.sh installs it): skipped");
    make_report();
    char cmd[4096], what[1024];
    snprintf(what, sizeof what, "--screenshot=%s/shot.png", tmp);
    chrome_cmd(cmd, sizeof cmd, browser, what);
    strncat(cmd, " > /dev/null 2>&1", sizeof cmd - strlen(cmd) - 1);
    cr_assert_eq(sp_test_system(cmd), 0, "%s", cmd);

    /* the screenshot is not blank: many non-white pixels and some dark ones */
    char path[800];
    snprintf(path, sizeof path, "%s/shot.png", tmp);
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&im, path), "%s: %s", path, im.message);
    im.format = PNG_FORMAT_GRAY;
    png_bytep px = malloc(PNG_IMAGE_SIZE(im));
    cr_assert(png_image_finish_read(&im, NULL, px, 0, NULL), "%s", im.message);
    size_t n = (size_t)im.width * im.height, nonwhite = 0, dark = 0;
    for (size_t i = 0; i < n; i++) nonwhite += px[i] < 245, dark += px[i] < 64;
    free(px);
    cr_expect_gt(nonwhite, n / 20, "screenshot nearly blank: %zu of %zu pixels not white", nonwhite, n);
    cr_expect_gt(dark, n / 100, "no dark pixels: images did not render");

    /* the rendered DOM: summary table and every key image */
    snprintf(what, sizeof what, "--dump-dom > %s/dom.html 2> /dev/null", tmp);
    chrome_cmd(cmd, sizeof cmd, browser, what);
    cr_assert_eq(sp_test_system(cmd), 0, "%s", cmd);
    snprintf(cmd, sizeof cmd, "grep -q '<table id=\"summary\">' %s/dom.html", tmp);
    cr_expect_eq(sp_test_system(cmd), 0, "summary table not in the DOM");
    snprintf(path, sizeof path, "%s/out/keyimages", tmp);
    DIR *d = opendir(path);
    cr_assert_not_null(d);
    struct dirent *e;
    int nimg = 0;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".png")) continue;
        nimg++;
        snprintf(cmd, sizeof cmd, "grep -q 'alt=\"keyimages/%s\"' %s/dom.html", e->d_name, tmp);
        cr_expect_eq(sp_test_system(cmd), 0, "%s not in the DOM", e->d_name);
    }
    closedir(d);
    cr_expect_geq(nimg, 3);
    snprintf(cmd, sizeof cmd, "test $(grep -o '<img class=\"keyimage\"' %s/dom.html | wc -l) -eq %d", tmp, nimg);
    cr_expect_eq(sp_test_system(cmd), 0, "the DOM holds a different number of key images than keyimages/");
}
