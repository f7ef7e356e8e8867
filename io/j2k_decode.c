/* j2k_decode.c - JPEG 2000 decoding with openjp2 (DCMTK has no JPEG 2000 codec).
 *
 * DESIGN: the compressed frame is read from memory through a small
 * opj_stream; the codec (J2K codestream or JP2 box format) is chosen from the
 * first bytes. Only single-component greyscale images are accepted; signed
 * components are written as two's complement so the caller's sign handling
 * (pixel representation, bits stored) applies unchanged. */
#define SP_IO_INTERNAL
#include "internal.h"

#include <openjpeg.h>
#include <string.h>

typedef struct mem_src {
    const uint8_t *p;
    size_t len, off;
} mem_src;

static OPJ_SIZE_T mem_read(void *buf, OPJ_SIZE_T n, void *user)
{
    mem_src *m = user;
    size_t left = m->len - m->off;
    if (left == 0) return (OPJ_SIZE_T)-1;
    if (n > left) n = left;
    memcpy(buf, m->p + m->off, n);
    m->off += n;
    return n;
}

static OPJ_OFF_T mem_skip(OPJ_OFF_T n, void *user)
{
    mem_src *m = user;
    if (n < 0 && (size_t)(-n) > m->off) n = -(OPJ_OFF_T)m->off;
    if (n > 0 && (size_t)n > m->len - m->off) n = (OPJ_OFF_T)(m->len - m->off);
    m->off += (size_t)n;
    return n;
}

static OPJ_BOOL mem_seek(OPJ_OFF_T n, void *user)
{
    mem_src *m = user;
    if (n < 0 || (size_t)n > m->len) return OPJ_FALSE;
    m->off = (size_t)n;
    return OPJ_TRUE;
}

sp_status sp_io_j2k_decode(const uint8_t *buf, size_t len, int rows, int cols, int bytes_per_sample,
                           void *dst, const char *path, sp_err *err)
{
    static const uint8_t jp2_sig[] = {0, 0, 0, 12, 'j', 'P', ' ', ' '};
    mem_src src = {buf, len, 0};
    opj_dparameters_t par;
    opj_codec_t *codec;
    opj_stream_t *stream;
    opj_image_t *img = NULL;
    sp_status st = SP_OK;
    bool jp2 = len >= sizeof jp2_sig && !memcmp(buf, jp2_sig, sizeof jp2_sig);

    codec = opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
    stream = opj_stream_default_create(OPJ_TRUE);
    if (!codec || !stream) {
        st = sp_fail(err, SP_ENOMEM, "%s: cannot create JPEG 2000 decoder", path);
        goto done;
    }
    opj_set_default_decoder_parameters(&par);
    opj_stream_set_user_data(stream, &src, NULL);
    opj_stream_set_user_data_length(stream, len);
    opj_stream_set_read_function(stream, mem_read);
    opj_stream_set_skip_function(stream, mem_skip);
    opj_stream_set_seek_function(stream, mem_seek);
    if (!opj_setup_decoder(codec, &par) || !opj_read_header(stream, codec, &img) ||
        !opj_decode(codec, stream, img) || !opj_end_decompress(codec, stream)) {
        st = sp_fail(err, SP_EDICOM, "%s: corrupt JPEG 2000 pixel data", path);
        goto done;
    }
    if (img->numcomps != 1 || (int)img->comps[0].w != cols || (int)img->comps[0].h != rows) {
        st = sp_fail(err, SP_EDICOM, "%s: JPEG 2000 image is %ux%u with %u components, header says %dx%d",
                     path, img->comps[0].w, img->comps[0].h, img->numcomps, cols, rows);
        goto done;
    }
    {
        const OPJ_INT32 *d = img->comps[0].data;
        size_t n = (size_t)rows * (size_t)cols;
        if (bytes_per_sample == 2)
            for (size_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = (uint16_t)(d[i] & 0xFFFF);
        else
            for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = (uint8_t)(d[i] & 0xFF);
    }
done:
    if (img) opj_image_destroy(img);
    if (stream) opj_stream_destroy(stream);
    if (codec) opj_destroy_codec(codec);
    return st;
}
