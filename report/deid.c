/* deid.c - the de-identification helpers: SHA-256 and HMAC-SHA-256 (from
 * OpenSSL's libcrypto, already a dependency of DCMTK and libcurl) and the
 * salted, deterministic replacement of a DICOM UID.
 *
 * DESIGN: a replaced UID is "2.25." + the decimal value of the first 16
 * bytes of HMAC-SHA-256(key = salt, message = original UID), with the
 * version and variant bits set so that the 128 bits are an RFC 9562
 * version-8 (custom) UUID, as PS3.5 B.2 asks of a "2.25." UID. A keyed hash
 * (HMAC) rather than SHA-256(salt || UID) so that the salt is a real key;
 * deterministic, so the same salt maps the same UID to the same value in
 * every run, object and study, and anyone who de-identifies the source images
 * with the same salt and rule gets references that line up. Without a secret
 * salt the mapping can be recomputed by whoever holds the original UIDs
 * (docs/report.md). */
#define SP_REPORT_INTERNAL
#include "internal.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

sp_status sp_report_sha256(const void *data, size_t n, uint8_t out[32])
{
    unsigned int len = 0;
    if (!EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) || len != 32) return SP_ENOMEM;
    return SP_OK;
}

sp_status sp_report_hmac_sha256(const void *key, size_t nkey, const void *msg, size_t nmsg, uint8_t out[32])
{
    unsigned int len = 0;
    static const uint8_t none = 0;
    if (!HMAC(EVP_sha256(), nkey ? key : &none, (int)nkey, nmsg ? msg : &none, nmsg, out, &len) || len != 32)
        return SP_ENOMEM;
    return SP_OK;
}

sp_status sp_report_deid_uid(const char *salt, const char *uid, char out[SP_UID_LEN])
{
    out[0] = '\0';
    if (!uid || !uid[0]) return SP_OK; /* an absent UID stays absent */
    if (!salt) salt = SP_DEID_BUILTIN_SALT;
    uint8_t h[32];
    sp_status st = sp_report_hmac_sha256(salt, strlen(salt), uid, strlen(uid), h);
    if (st != SP_OK) return st;
    h[6] = (uint8_t)((h[6] & 0x0f) | 0x80); /* version 8 */
    h[8] = (uint8_t)((h[8] & 0x3f) | 0x80); /* variant 10 */
    unsigned __int128 v = 0;
    for (int i = 0; i < 16; i++) v = (v << 8) | h[i];
    char digits[48];
    int n = 0;
    do {
        digits[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    int o = snprintf(out, SP_UID_LEN, "2.25."); /* 5 + at most 39 digits < 64 */
    while (n > 0) out[o++] = digits[--n];
    out[o] = '\0';
    return SP_OK;
}
