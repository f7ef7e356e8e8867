/* dicom_dcmtk.cpp - the DCMTK shim: the only file that includes DCMTK headers.
 *
 * DESIGN: type conversion and error mapping only. Exceptions never cross the
 * extern "C" boundary (SP_SHIM_TRY/CATCH); OFCondition failures become
 * SP_EDICOM with DCMTK's text. Every policy decision (grouping, sorting, HU,
 * geometry checks) is made in C by io/series_*.c and io/load.c. */
#include "io/dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/dcmsr/dsrdoc.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

#define SP_SHIM_TRY try {
#define SP_SHIM_CATCH(err)                                                                       \
    }                                                                                            \
    catch (const std::bad_alloc &) { return sp_fail(err, SP_ENOMEM, "out of memory"); }          \
    catch (const std::exception &e) { return sp_fail(err, SP_EDICOM, "%s", e.what()); }          \
    catch (...) { return sp_fail(err, SP_EDICOM, "unknown C++ exception in DCMTK"); }

namespace {

std::once_flag g_init_once;

void copy_str(DcmItem *it, const DcmTagKey &tag, char *dst, size_t n)
{
    OFString s;
    dst[0] = '\0';
    if (it->findAndGetOFStringArray(tag, s).good()) {
        std::strncpy(dst, s.c_str(), n - 1);
        dst[n - 1] = '\0';
    }
}

int get_int(DcmItem *it, const DcmTagKey &tag, int absent)
{
    Sint32 v = 0;
    Uint16 u = 0;
    OFString s;
    if (it->findAndGetUint16(tag, u).good()) return u;
    if (it->findAndGetSint32(tag, v).good()) return (int)v;
    if (it->findAndGetOFString(tag, s).good() && !s.empty()) return std::atoi(s.c_str());
    return absent;
}

int get_doubles(DcmItem *it, const DcmTagKey &tag, double *dst, int n)
{
    for (int i = 0; i < n; i++) {
        Float64 v;
        if (it->findAndGetFloat64(tag, v, (unsigned long)i).bad()) return 0;
        dst[i] = v;
    }
    return 1;
}

/* The first item of seq_tag inside item `it`, then sub_tag's first item in it. */
DcmItem *sub_item(DcmItem *it, const DcmTagKey &seq_tag)
{
    DcmItem *out = NULL;
    if (it && it->findAndGetSequenceItem(seq_tag, out, 0).good()) return out;
    return NULL;
}

/* Enhanced multi-frame: geometry and rescale from the functional groups. */
sp_status read_functional_groups(DcmDataset *ds, sp_dicom_header *h)
{
    DcmItem *shared = sub_item(ds, DCM_SharedFunctionalGroupsSequence);
    DcmItem *first = sub_item(ds, DCM_PerFrameFunctionalGroupsSequence);
    DcmItem *srcs[2] = {shared, first};
    for (DcmItem *src : srcs) {
        DcmItem *m = sub_item(src, DCM_PixelMeasuresSequence);
        if (m && h->pixel_spacing[0] == 0) {
            get_doubles(m, DCM_PixelSpacing, h->pixel_spacing, 2);
            get_doubles(m, DCM_SliceThickness, &h->slice_thickness, 1);
        }
        DcmItem *o = sub_item(src, DCM_PlaneOrientationSequence);
        if (o && !h->has_iop) h->has_iop = get_doubles(o, DCM_ImageOrientationPatient, h->iop, 6);
        DcmItem *r = sub_item(src, DCM_PixelValueTransformationSequence);
        if (r) {
            get_doubles(r, DCM_RescaleSlope, &h->slope, 1);
            get_doubles(r, DCM_RescaleIntercept, &h->intercept, 1);
        }
    }
    if (h->frames <= 0) return SP_OK;
    h->frame_ipp = (double *)std::calloc((size_t)h->frames * 3, sizeof(double));
    if (!h->frame_ipp) return SP_ENOMEM;
    for (int f = 0; f < h->frames; f++) {
        DcmItem *pf = NULL;
        if (ds->findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, pf, f).bad()) break;
        DcmItem *p = sub_item(pf, DCM_PlanePositionSequence);
        if (!p || !get_doubles(p, DCM_ImagePositionPatient, h->frame_ipp + 3 * f, 3)) {
            std::free(h->frame_ipp);
            h->frame_ipp = NULL;
            break;
        }
    }
    if (h->frame_ipp) {
        std::memcpy(h->ipp, h->frame_ipp, sizeof h->ipp);
        h->has_ipp = 1;
    }
    return SP_OK;
}

void read_padding(DcmDataset *ds, sp_dicom_header *h)
{
    DcmElement *e = NULL;
    if (ds->findAndGetElement(DCM_PixelPaddingValue, e).bad() || !e) return;
    if (e->ident() == EVR_SS) {
        Sint16 v;
        if (e->getSint16(v).good()) h->padding_value = v, h->has_padding = 1;
    } else {
        Uint16 v;
        if (e->getUint16(v).good()) h->padding_value = v, h->has_padding = 1;
    }
}

/* True when the file has the "DICM" magic after the 128-byte preamble. */
bool has_dicm_magic(const char *path)
{
    char buf[132];
    FILE *f = std::fopen(path, "rb");
    if (!f) return false;
    size_t n = std::fread(buf, 1, sizeof buf, f);
    std::fclose(f);
    return n == sizeof buf && !std::memcmp(buf + 128, "DICM", 4);
}

sp_status load(DcmFileFormat &ff, const char *path, Uint32 max_read, sp_err *err)
{
    OFCondition c = ff.loadFile(OFFilename(path), EXS_Unknown, EGL_noChange, max_read, ERM_autoDetect);
    if (c.bad()) {
        if (has_dicm_magic(path))
            return sp_fail(err, SP_EDICOM, "%s: truncated or corrupt DICOM file (%s)", path, c.text());
        return sp_fail(err, SP_EDICOM, "%s: not a DICOM file (no DICM marker, not a parseable dataset)", path);
    }
    return SP_OK;
}

} // namespace

extern "C" void sp_dicom_init(void)
{
    std::call_once(g_init_once, [] {
        OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
    });
}

extern "C" void sp_dicom_header_clear(sp_dicom_header *h)
{
    if (!h) return;
    std::free(h->frame_ipp);
    h->frame_ipp = NULL;
}

extern "C" sp_status sp_dicom_read_header(const char *path, sp_dicom_header *h, sp_err *err)
{
    SP_SHIM_TRY
    std::memset(h, 0, sizeof *h);
    DcmFileFormat ff;
    sp_status st = load(ff, path, 1024, err);
    if (st != SP_OK) return st;
    DcmDataset *ds = ff.getDataset();
    DcmMetaInfo *meta = ff.getMetaInfo();
    copy_str(meta, DCM_TransferSyntaxUID, h->transfer_syntax, sizeof h->transfer_syntax);
    if (!h->transfer_syntax[0]) {
        DcmXfer x(ds->getOriginalXfer());
        std::strncpy(h->transfer_syntax, x.getXferID(), sizeof h->transfer_syntax - 1);
    }
    copy_str(ds, DCM_SOPClassUID, h->sop_class_uid, sizeof h->sop_class_uid);
    if (!h->sop_class_uid[0])
        copy_str(meta, DCM_MediaStorageSOPClassUID, h->sop_class_uid, sizeof h->sop_class_uid);
    copy_str(ds, DCM_SOPInstanceUID, h->sop_instance_uid, sizeof h->sop_instance_uid);
    copy_str(ds, DCM_StudyInstanceUID, h->study_uid, sizeof h->study_uid);
    copy_str(ds, DCM_SeriesInstanceUID, h->series_uid, sizeof h->series_uid);
    copy_str(ds, DCM_FrameOfReferenceUID, h->frame_of_ref_uid, sizeof h->frame_of_ref_uid);
    copy_str(ds, DCM_Modality, h->modality, sizeof h->modality);
    copy_str(ds, DCM_PhotometricInterpretation, h->photometric, sizeof h->photometric);
    copy_str(ds, DCM_ImageType, h->image_type, sizeof h->image_type);
    copy_str(ds, DCM_SeriesDescription, h->series_description, sizeof h->series_description);
    copy_str(ds, DCM_ConvolutionKernel, h->kernel, sizeof h->kernel);
    copy_str(ds, DCM_Manufacturer, h->manufacturer, sizeof h->manufacturer);
    copy_str(ds, DCM_BodyPartExamined, h->body_part, sizeof h->body_part);
    copy_str(ds, DCM_PatientID, h->patient_id, sizeof h->patient_id);
    copy_str(ds, DCM_StudyDate, h->study_date, sizeof h->study_date);
    copy_str(ds, DCM_SeriesTime, h->series_time, sizeof h->series_time);
    copy_str(ds, DCM_AcquisitionTime, h->acquisition_time, sizeof h->acquisition_time);
    copy_str(ds, DCM_PatientPosition, h->patient_position, sizeof h->patient_position);
    h->series_number = get_int(ds, DCM_SeriesNumber, INT_MIN);
    h->instance_number = get_int(ds, DCM_InstanceNumber, INT_MIN);
    h->acquisition_number = get_int(ds, DCM_AcquisitionNumber, INT_MIN);
    h->rows = get_int(ds, DCM_Rows, 0);
    h->cols = get_int(ds, DCM_Columns, 0);
    h->frames = get_int(ds, DCM_NumberOfFrames, 1);
    h->bits_allocated = get_int(ds, DCM_BitsAllocated, 0);
    h->bits_stored = get_int(ds, DCM_BitsStored, h->bits_allocated);
    h->high_bit = get_int(ds, DCM_HighBit, h->bits_stored - 1);
    h->pixel_rep = get_int(ds, DCM_PixelRepresentation, 0);
    h->samples_per_pixel = get_int(ds, DCM_SamplesPerPixel, 1);
    h->slope = 1.0;
    h->intercept = 0.0;
    get_doubles(ds, DCM_RescaleSlope, &h->slope, 1);
    get_doubles(ds, DCM_RescaleIntercept, &h->intercept, 1);
    get_doubles(ds, DCM_PixelSpacing, h->pixel_spacing, 2);
    get_doubles(ds, DCM_SliceThickness, &h->slice_thickness, 1);
    get_doubles(ds, DCM_SpacingBetweenSlices, &h->spacing_between_slices, 1);
    get_doubles(ds, DCM_GantryDetectorTilt, &h->gantry_tilt, 1);
    h->has_ipp = get_doubles(ds, DCM_ImagePositionPatient, h->ipp, 3);
    h->has_iop = get_doubles(ds, DCM_ImageOrientationPatient, h->iop, 6);
    read_padding(ds, h);
    DcmElement *px = NULL;
    h->has_pixel_data = ds->findAndGetElement(DCM_PixelData, px).good() && px;
    h->private_pixels = !h->has_pixel_data && ds->tagExists(DcmTagKey(0x7fdf, 0x0010));
    h->encapsulated = DcmXfer(ds->getOriginalXfer()).isEncapsulated() ? 1 : 0;
    h->is_dicomdir = !std::strcmp(h->sop_class_uid, UID_MediaStorageDirectoryStorage);
    h->is_enhanced = ds->tagExists(DCM_PerFrameFunctionalGroupsSequence) ? 1 : 0;
    if (h->is_enhanced) {
        st = read_functional_groups(ds, h);
        if (st != SP_OK) return sp_fail(err, st, "%s: out of memory reading frame positions", path);
    }
    /* A file with neither meta header nor any identifying attribute is not DICOM
     * (DCMTK's auto-detection accepts some arbitrary byte streams). */
    if (!h->sop_class_uid[0] && !h->has_pixel_data && !h->modality[0] && !h->study_uid[0])
        return sp_fail(err, SP_EDICOM, "%s: not a DICOM file (no SOP class, modality or pixel data)", path);
    return SP_OK;
    SP_SHIM_CATCH(err)
}

extern "C" sp_status sp_dicom_read_frames(const char *path, void *dst, size_t dst_bytes, sp_err *err)
{
    SP_SHIM_TRY
    DcmFileFormat ff;
    sp_status st = load(ff, path, DCM_MaxReadLength, err);
    if (st != SP_OK) return st;
    DcmDataset *ds = ff.getDataset();
    E_TransferSyntax xs = ds->getOriginalXfer();
    DcmXfer xfer(xs);
    if (xs == EXS_JPEG2000LosslessOnly || xs == EXS_JPEG2000)
        return sp_fail(err, SP_EUNSUPPORTED, "%s: JPEG 2000 is decoded outside DCMTK", path);
    if (xfer.isEncapsulated()) {
        OFCondition c = ds->chooseRepresentation(EXS_LittleEndianExplicit, NULL);
        if (c.bad() || !ds->canWriteXfer(EXS_LittleEndianExplicit))
            return sp_fail(err, SP_EUNSUPPORTED, "%s: cannot decode transfer syntax %s (%s)", path,
                           xfer.getXferName(), c.bad() ? c.text() : "no codec");
    }
    DcmElement *px = NULL;
    if (ds->findAndGetElement(DCM_PixelData, px).bad() || !px)
        return sp_fail(err, SP_EDICOM, "%s: no pixel data", path);
    Uint16 bits = 0;
    ds->findAndGetUint16(DCM_BitsAllocated, bits);
    const void *src = NULL;
    OFCondition c;
    if (bits == 16) {
        Uint16 *p = NULL;
        c = px->getUint16Array(p);
        src = p;
    } else {
        Uint8 *p = NULL;
        c = px->getUint8Array(p);
        src = p;
    }
    if (c.bad() || !src) return sp_fail(err, SP_EDICOM, "%s: pixel data unreadable (%s)", path, c.text());
    if ((size_t)px->getLength() < dst_bytes)
        return sp_fail(err, SP_EDICOM, "%s: pixel data is %lu bytes, %zu expected (truncated?)", path,
                       (unsigned long)px->getLength(), dst_bytes);
    std::memcpy(dst, src, dst_bytes);
    return SP_OK;
    SP_SHIM_CATCH(err)
}

extern "C" sp_status sp_dicom_read_fragments(const char *path, uint32_t frame, uint8_t **buf, size_t *len,
                                             sp_err *err)
{
    SP_SHIM_TRY
    *buf = NULL;
    *len = 0;
    DcmFileFormat ff;
    sp_status st = load(ff, path, DCM_MaxReadLength, err);
    if (st != SP_OK) return st;
    DcmDataset *ds = ff.getDataset();
    DcmElement *el = NULL;
    if (ds->findAndGetElement(DCM_PixelData, el).bad() || !el)
        return sp_fail(err, SP_EDICOM, "%s: no pixel data", path);
    DcmPixelData *pd = OFstatic_cast(DcmPixelData *, el);
    DcmPixelSequence *seq = NULL;
    if (pd->getEncapsulatedRepresentation(ds->getOriginalXfer(), NULL, seq).bad() || !seq)
        return sp_fail(err, SP_EDICOM, "%s: pixel data is not encapsulated", path);
    Sint32 nframes = 1;
    ds->findAndGetSint32(DCM_NumberOfFrames, nframes);
    if (nframes < 1) nframes = 1;
    Uint32 start = 0;
    unsigned long nitems = seq->card();
    if (DcmCodec::determineStartFragment(frame, nframes, seq, start).bad())
        return sp_fail(err, SP_EDICOM, "%s: cannot locate frame %u in the fragments", path, frame);
    /* A frame runs from its start fragment to the next frame's start (or the end). */
    Uint32 end = (Uint32)nitems;
    if ((Sint32)frame + 1 < nframes) {
        Uint32 next = 0;
        if (DcmCodec::determineStartFragment(frame + 1, nframes, seq, next).good()) end = next;
    }
    size_t total = 0;
    for (Uint32 i = start; i < end; i++) {
        DcmPixelItem *it = NULL;
        if (seq->getItem(it, i).bad() || !it) break;
        total += it->getLength();
    }
    uint8_t *out = (uint8_t *)std::malloc(total ? total : 1);
    if (!out) return sp_fail(err, SP_ENOMEM, "out of memory");
    size_t off = 0;
    for (Uint32 i = start; i < end; i++) {
        DcmPixelItem *it = NULL;
        Uint8 *p = NULL;
        if (seq->getItem(it, i).bad() || !it) break;
        if (it->getUint8Array(p).bad() || (!p && it->getLength())) {
            std::free(out);
            return sp_fail(err, SP_EDICOM, "%s: unreadable pixel fragment %u", path, i);
        }
        std::memcpy(out + off, p, it->getLength());
        off += it->getLength();
    }
    *buf = out;
    *len = off;
    return SP_OK;
    SP_SHIM_CATCH(err)
}

extern "C" void sp_dicom_new_uid(char out[SP_UID_LEN])
{
    char buf[100];
    dcmGenerateUniqueIdentifier(buf, SITE_INSTANCE_UID_ROOT);
    std::strncpy(out, buf, SP_UID_LEN - 1);
    out[SP_UID_LEN - 1] = '\0';
}

namespace {

void put(DcmDataset *ds, const DcmTagKey &tag, const char *v)
{
    ds->putAndInsertString(tag, v ? v : "");
}

void put_num(DcmDataset *ds, const DcmTagKey &tag, const char *fmt, double a)
{
    char b[64];
    std::snprintf(b, sizeof b, fmt, a);
    ds->putAndInsertString(tag, b);
}

void put_uid(DcmDataset *ds, const DcmTagKey &tag, const char *v)
{
    char u[SP_UID_LEN];
    if (v) { /* "" writes an empty UID, as some anonymisers leave them */
        ds->putAndInsertString(tag, v);
        return;
    }
    sp_dicom_new_uid(u);
    ds->putAndInsertString(tag, u);
}

/* Decimal strings are at most 16 characters: print with %.10g where needed. */
void put_ds_list(DcmDataset *ds, const DcmTagKey &tag, const double *v, int n)
{
    char b[256] = "";
    size_t off = 0;
    for (int i = 0; i < n; i++)
        off += (size_t)std::snprintf(b + off, sizeof b - off, "%s%.10g", i ? "\\" : "", v[i]);
    ds->putAndInsertString(tag, b);
}

} // namespace

extern "C" sp_status sp_dicom_write_slice(const char *path, const sp_dicom_slice_meta *m, const void *pixels,
                                          sp_err *err)
{
    SP_SHIM_TRY
    DcmFileFormat ff;
    DcmDataset *ds = ff.getDataset();
    put(ds, DCM_SpecificCharacterSet, "ISO_IR 100");
    put(ds, DCM_ImageType, m->image_type ? m->image_type : "ORIGINAL\\PRIMARY\\AXIAL");
    put(ds, DCM_SOPClassUID, UID_CTImageStorage);
    put_uid(ds, DCM_SOPInstanceUID, m->sop_instance_uid);
    put(ds, DCM_StudyDate, m->study_date);
    put(ds, DCM_SeriesDate, m->study_date);
    put(ds, DCM_ContentDate, m->study_date);
    put(ds, DCM_StudyTime, m->study_time);
    put(ds, DCM_SeriesTime, m->study_time);
    put(ds, DCM_ContentTime, m->study_time);
    put(ds, DCM_AccessionNumber, m->accession_number);
    put(ds, DCM_Modality, "CT");
    put(ds, DCM_Manufacturer, m->manufacturer);
    put(ds, DCM_ReferringPhysicianName, "");
    put(ds, DCM_SeriesDescription, m->series_description);
    put(ds, DCM_PatientName, m->patient_name);
    put(ds, DCM_PatientID, m->patient_id);
    put(ds, DCM_PatientBirthDate, m->patient_birth_date);
    put(ds, DCM_PatientSex, m->patient_sex);
    put(ds, DCM_BodyPartExamined, m->body_part);
    put_num(ds, DCM_SliceThickness, "%.6g", m->slice_thickness);
    put(ds, DCM_KVP, "120");
    put(ds, DCM_ConvolutionKernel, m->kernel);
    put_num(ds, DCM_GantryDetectorTilt, "%.6g", m->gantry_tilt);
    put(ds, DCM_PatientPosition, m->patient_position ? m->patient_position : "FFS");
    put_uid(ds, DCM_StudyInstanceUID, m->study_uid);
    put_uid(ds, DCM_SeriesInstanceUID, m->series_uid);
    put(ds, DCM_StudyID, m->study_id);
    put_num(ds, DCM_SeriesNumber, "%.0f", m->series_number);
    put(ds, DCM_AcquisitionNumber, "1");
    put_num(ds, DCM_InstanceNumber, "%.0f", m->instance_number);
    put_ds_list(ds, DCM_ImagePositionPatient, m->ipp, 3);
    put_ds_list(ds, DCM_ImageOrientationPatient, m->iop, 6);
    put_uid(ds, DCM_FrameOfReferenceUID, m->frame_of_ref_uid);
    put(ds, DCM_PositionReferenceIndicator, "");
    ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    put(ds, DCM_PhotometricInterpretation, "MONOCHROME2");
    ds->putAndInsertUint16(DCM_Rows, (Uint16)m->rows);
    ds->putAndInsertUint16(DCM_Columns, (Uint16)m->cols);
    put_ds_list(ds, DCM_PixelSpacing, m->pixel_spacing, 2);
    int bits_stored = m->bits_stored > 0 ? m->bits_stored : 16;
    ds->putAndInsertUint16(DCM_BitsAllocated, 16);
    ds->putAndInsertUint16(DCM_BitsStored, (Uint16)bits_stored);
    ds->putAndInsertUint16(DCM_HighBit, (Uint16)(bits_stored - 1));
    ds->putAndInsertUint16(DCM_PixelRepresentation, (Uint16)(m->pixel_rep ? 1 : 0));
    if (m->window_width > 0) {
        put_num(ds, DCM_WindowCenter, "%.6g", m->window_center);
        put_num(ds, DCM_WindowWidth, "%.6g", m->window_width);
    }
    put_num(ds, DCM_RescaleIntercept, "%.10g", m->intercept);
    put_num(ds, DCM_RescaleSlope, "%.10g", m->slope);
    put(ds, DCM_RescaleType, "HU");
    OFCondition c = ds->putAndInsertUint16Array(DCM_PixelData, (const Uint16 *)pixels,
                                                (unsigned long)m->rows * (unsigned long)m->cols);
    if (c.bad()) return sp_fail(err, SP_EDICOM, "%s: cannot store pixel data (%s)", path, c.text());
    E_TransferSyntax xs = m->syntax == SP_TS_IMPLICIT_LE   ? EXS_LittleEndianImplicit
                          : m->syntax == SP_TS_EXPLICIT_BE ? EXS_BigEndianExplicit
                                                           : EXS_LittleEndianExplicit;
    c = ff.saveFile(OFFilename(path), xs, EET_ExplicitLength, EGL_recalcGL, EPD_noChange);
    if (c.bad()) return sp_fail(err, SP_EIO, "%s: cannot write (%s)", path, c.text());
    return SP_OK;
    SP_SHIM_CATCH(err)
}

/* ---- Source patient/study attributes ------------------------------------ */

extern "C" sp_status sp_dicom_read_patient(const char *path, sp_dicom_patient *p, sp_err *err)
{
    SP_SHIM_TRY
    std::memset(p, 0, sizeof *p);
    DcmFileFormat ff;
    sp_status st = load(ff, path, 1024, err);
    if (st != SP_OK) return st;
    DcmDataset *ds = ff.getDataset();
    copy_str(ds, DCM_PatientName, p->patient_name, sizeof p->patient_name);
    copy_str(ds, DCM_PatientID, p->patient_id, sizeof p->patient_id);
    copy_str(ds, DCM_PatientSex, p->patient_sex, sizeof p->patient_sex);
    copy_str(ds, DCM_PatientBirthDate, p->patient_birth_date, sizeof p->patient_birth_date);
    copy_str(ds, DCM_StudyDate, p->study_date, sizeof p->study_date);
    copy_str(ds, DCM_StudyTime, p->study_time, sizeof p->study_time);
    copy_str(ds, DCM_AccessionNumber, p->accession_number, sizeof p->accession_number);
    copy_str(ds, DCM_StudyID, p->study_id, sizeof p->study_id);
    copy_str(ds, DCM_StudyDescription, p->study_description, sizeof p->study_description);
    copy_str(ds, DCM_ReferringPhysicianName, p->referring_physician, sizeof p->referring_physician);
    return SP_OK;
    SP_SHIM_CATCH(err)
}

/* ---- Derived objects: SEG and SR ----------------------------------------- */

namespace {

const char *nz(const char *v) { return v ? v : ""; }

/* Patient, study, series, instance and date attributes common to SEG and SR,
 * written over what DCMTK generated so that the file is reproducible. */
void put_derived(DcmDataset *ds, const sp_dicom_derived_meta *m)
{
    char num[32];
    put(ds, DCM_SpecificCharacterSet, "ISO_IR 100");
    put(ds, DCM_PatientName, nz(m->patient_name));
    put(ds, DCM_PatientID, nz(m->patient_id));
    put(ds, DCM_PatientSex, nz(m->patient_sex));
    put(ds, DCM_PatientBirthDate, nz(m->patient_birth_date));
    put(ds, DCM_StudyInstanceUID, nz(m->study_uid));
    put(ds, DCM_StudyDate, nz(m->study_date));
    put(ds, DCM_StudyTime, nz(m->study_time));
    put(ds, DCM_StudyID, nz(m->study_id));
    put(ds, DCM_AccessionNumber, nz(m->accession_number));
    put(ds, DCM_ReferringPhysicianName, nz(m->referring_physician));
    if (m->study_description && m->study_description[0]) put(ds, DCM_StudyDescription, m->study_description);
    put(ds, DCM_SeriesInstanceUID, nz(m->series_uid));
    put(ds, DCM_SOPInstanceUID, nz(m->sop_instance_uid));
    put(ds, DCM_SeriesDescription, nz(m->series_description));
    std::snprintf(num, sizeof num, "%d", m->series_number);
    put(ds, DCM_SeriesNumber, num);
    std::snprintf(num, sizeof num, "%d", m->instance_number);
    put(ds, DCM_InstanceNumber, num);
    put(ds, DCM_ContentDate, nz(m->content_date));
    put(ds, DCM_ContentTime, nz(m->content_time));
    put(ds, DCM_InstanceCreationDate, nz(m->content_date));
    put(ds, DCM_InstanceCreationTime, nz(m->content_time));
    ds->findAndDeleteElement(DCM_SeriesDate);
    ds->findAndDeleteElement(DCM_SeriesTime);
    put(ds, DCM_Manufacturer, nz(m->manufacturer));
    put(ds, DCM_ManufacturerModelName, nz(m->model));
    put(ds, DCM_SoftwareVersions, nz(m->software_version));
    if (m->deidentified) { /* Patient module (PS3.3 C.7.1.1) and SOP Common (C.12.1) */
        put(ds, DCM_PatientIdentityRemoved, "YES");
        put(ds, DCM_DeidentificationMethod, nz(m->deid_method));
        ds->findAndDeleteElement(DCM_DeidentificationMethodCodeSequence);
        for (int i = 0; i < m->ndeid_codes; i++) {
            DcmItem *it = NULL;
            if (ds->findOrCreateSequenceItem(DCM_DeidentificationMethodCodeSequence, it, -2).bad()) continue;
            it->putAndInsertString(DCM_CodeValue, nz(m->deid_codes[i].value));
            it->putAndInsertString(DCM_CodingSchemeDesignator, nz(m->deid_codes[i].scheme));
            it->putAndInsertString(DCM_CodeMeaning, nz(m->deid_codes[i].meaning));
        }
        put(ds, DCM_LongitudinalTemporalInformationModified, "REMOVED");
    }
}

OFCondition save_with_meta(DcmFileFormat &ff, const char *path)
{
    return ff.saveFile(OFFilename(path), EXS_LittleEndianExplicit, EET_ExplicitLength, EGL_recalcGL,
                       EPD_noChange);
}

CodeSequenceMacro code_of(const sp_dicom_code &c)
{
    return CodeSequenceMacro(nz(c.value), nz(c.scheme), nz(c.meaning));
}

std::string ds_str(double v)
{
    char b[32];
    std::snprintf(b, sizeof b, "%.10g", v);
    return b;
}

} // namespace

extern "C" sp_status sp_dicom_write_seg(const char *path, const sp_dicom_seg *s, sp_err *err)
{
    SP_SHIM_TRY
    IODGeneralEquipmentModule::EquipmentInfo eq(nz(s->m.manufacturer), nz(s->m.model), "0",
                                                nz(s->m.software_version));
    ContentIdentificationMacro ci("1", nz(s->content_label), nz(s->content_label), nz(s->content_creator));
    DcmSegmentation *raw = NULL;
    OFCondition c = DcmSegmentation::createBinarySegmentation(raw, (Uint16)s->rows, (Uint16)s->cols, eq, ci);
    if (c.bad()) return sp_fail(err, SP_EDICOM, "%s: cannot create segmentation (%s)", path, c.text());
    OFunique_ptr<DcmSegmentation> seg(raw);
    seg->getFrameOfReference().setFrameOfReferenceUID(nz(s->frame_of_ref_uid));
    seg->getStudy().setStudyInstanceUID(nz(s->m.study_uid));
    seg->getSeries().setSeriesInstanceUID(nz(s->m.series_uid));
    seg->getSOPCommon().setSOPInstanceUID(nz(s->m.sop_instance_uid));
    seg->getPatient().setPatientID(nz(s->m.patient_id));
    seg->getSegmentationSeriesModule().setSeriesNumber(std::to_string(s->m.series_number).c_str());
    for (int i = 0; i < s->nsegments; i++) {
        const sp_dicom_seg_segment *g = &s->segments[i];
        DcmSegment *sg = NULL;
        c = DcmSegment::create(sg, nz(g->label), code_of(g->category), code_of(g->type), DcmSegTypes::SAT_AUTOMATIC,
                               nz(g->algorithm_name));
        if (c.bad()) return sp_fail(err, SP_EDICOM, "%s: segment %s (%s)", path, nz(g->label), c.text());
        if (g->description && g->description[0]) sg->setSegmentDescription(g->description);
        Uint16 num = 0;
        c = seg->addSegment(sg, num);
        if (c.bad()) {
            delete sg;
            return sp_fail(err, SP_EDICOM, "%s: segment %s (%s)", path, nz(g->label), c.text());
        }
    }
    FGPixelMeasures pm;
    pm.setPixelSpacing((ds_str(s->pixel_spacing[0]) + "\\" + ds_str(s->pixel_spacing[1])).c_str());
    pm.setSliceThickness(ds_str(s->slice_thickness).c_str());
    pm.setSpacingBetweenSlices(ds_str(s->slice_thickness).c_str());
    OFunique_ptr<FGPlaneOrientationPatient> po(FGPlaneOrientationPatient::createMinimal(
        ds_str(s->iop[0]).c_str(), ds_str(s->iop[1]).c_str(), ds_str(s->iop[2]).c_str(), ds_str(s->iop[3]).c_str(),
        ds_str(s->iop[4]).c_str(), ds_str(s->iop[5]).c_str()));
    if (!po || seg->addForAllFrames(pm).bad() || seg->addForAllFrames(*po).bad())
        return sp_fail(err, SP_EDICOM, "%s: cannot set the shared geometry", path);
    IODMultiframeDimensionModule &dims = seg->getDimensions();
    OFString dim_uid = s->m.series_uid; /* any UID unique to this object */
    dims.addDimensionIndex(DCM_ReferencedSegmentNumber, dim_uid, DCM_SegmentIdentificationSequence,
                           "ReferencedSegmentNumber");
    dims.addDimensionIndex(DCM_ImagePositionPatient, dim_uid, DCM_PlanePositionSequence, "ImagePositionPatient");
    OFVector<Uint8> bits((size_t)s->rows * (size_t)s->cols);
    for (int f = 0; f < s->nframes; f++) {
        const sp_dicom_seg_frame *fr = &s->frames[f];
        for (size_t i = 0; i < bits.size(); i++) bits[i] = fr->labels[i] == fr->value ? 1 : 0;
        const double *p = s->ipp[fr->slice];
        OFunique_ptr<FGPlanePosPatient> pp(
            FGPlanePosPatient::createMinimal(ds_str(p[0]).c_str(), ds_str(p[1]).c_str(), ds_str(p[2]).c_str()));
        FGFrameContent fc;
        fc.setDimensionIndexValues((Uint32)fr->segment, 0);
        fc.setDimensionIndexValues((Uint32)fr->slice + 1, 1);
        OFVector<FGBase *> per;
        per.push_back(pp.get());
        per.push_back(&fc);
        OFunique_ptr<FGDerivationImage> der;
        if (fr->source_sop_instance) {
            OFVector<ImageSOPInstanceReferenceMacro> src(1);
            src[0].setReferencedSOPClassUID(nz(s->m.ref_sop_class_uid));
            src[0].setReferencedSOPInstanceUID(fr->source_sop_instance);
            der.reset(FGDerivationImage::createMinimal(src, "", CodeSequenceMacro("113076", "DCM", "Segmentation"),
                                                       CodeSequenceMacro("121322", "DCM",
                                                                         "Source image for image processing operation")));
            if (der) per.push_back(der.get());
        }
        c = seg->addFrame(&bits[0], (Uint16)fr->segment, per);
        if (c.bad()) return sp_fail(err, SP_EDICOM, "%s: frame %d (%s)", path, f, c.text());
    }
    DcmFileFormat ff;
    DcmDataset *ds = ff.getDataset();
    c = seg->writeDataset(*ds);
    if (c.bad()) return sp_fail(err, SP_EDICOM, "%s: cannot build the segmentation (%s)", path, c.text());
    put_derived(ds, &s->m);
    put(ds, DCM_ContentCreatorName, nz(s->content_creator));
    /* the source series, in the Common Instance Reference module */
    ds->findAndDeleteElement(DCM_ReferencedSeriesSequence);
    DcmItem *rs = NULL;
    if (s->m.nref > 0 && ds->findOrCreateSequenceItem(DCM_ReferencedSeriesSequence, rs, 0).good()) {
        rs->putAndInsertString(DCM_SeriesInstanceUID, nz(s->m.ref_series_uid));
        for (int i = 0; i < s->m.nref; i++) {
            DcmItem *ri = NULL;
            if (rs->findOrCreateSequenceItem(DCM_ReferencedInstanceSequence, ri, -2).bad()) continue;
            ri->putAndInsertString(DCM_ReferencedSOPClassUID, nz(s->m.ref_sop_class_uid));
            ri->putAndInsertString(DCM_ReferencedSOPInstanceUID, s->m.ref_sop_instance_uid[i]);
        }
    }
    c = save_with_meta(ff, path);
    if (c.bad()) return sp_fail(err, SP_EIO, "%s: cannot write (%s)", path, c.text());
    return SP_OK;
    SP_SHIM_CATCH(err)
}

extern "C" sp_status sp_dicom_read_seg_counts(const char *path, int *nsegments, int *nframes, sp_err *err)
{
    SP_SHIM_TRY
    DcmSegmentation *raw = NULL;
    OFCondition c = DcmSegmentation::loadFile(path, raw);
    OFunique_ptr<DcmSegmentation> seg(raw);
    if (c.bad() || !seg) return sp_fail(err, SP_EDICOM, "%s: not a loadable segmentation (%s)", path, c.text());
    *nsegments = (int)seg->getNumberOfSegments();
    *nframes = (int)seg->getNumberOfFrames();
    return SP_OK;
    SP_SHIM_CATCH(err)
}

namespace {

DSRTypes::E_RelationshipType sr_rel(sp_dicom_sr_rel r)
{
    switch (r) {
    case SP_SR_HAS_OBS_CONTEXT: return DSRTypes::RT_hasObsContext;
    case SP_SR_HAS_CONCEPT_MOD: return DSRTypes::RT_hasConceptMod;
    case SP_SR_HAS_PROPERTIES: return DSRTypes::RT_hasProperties;
    case SP_SR_INFERRED_FROM: return DSRTypes::RT_inferredFrom;
    default: return DSRTypes::RT_contains;
    }
}

DSRTypes::E_ValueType sr_type(sp_dicom_sr_type t)
{
    switch (t) {
    case SP_SR_CODE: return DSRTypes::VT_Code;
    case SP_SR_NUM: return DSRTypes::VT_Num;
    case SP_SR_TEXT: return DSRTypes::VT_Text;
    case SP_SR_UIDREF: return DSRTypes::VT_UIDRef;
    case SP_SR_IMAGE: return DSRTypes::VT_Image;
    default: return DSRTypes::VT_Container;
    }
}

DSRCodedEntryValue sr_code(const sp_dicom_code &c) { return DSRCodedEntryValue(nz(c.value), nz(c.scheme), nz(c.meaning)); }

} // namespace

extern "C" sp_status sp_dicom_write_sr(const char *path, const sp_dicom_sr *s, sp_err *err)
{
    SP_SHIM_TRY
    DSRDocument doc(DSRTypes::DT_ComprehensiveSR);
    DSRDocumentTree &t = doc.getTree();
    int depth = -1;
    for (int i = 0; i < s->nitems; i++) {
        const sp_dicom_sr_item *it = &s->items[i];
        size_t added;
        if (i == 0) {
            added = t.addContentItem(DSRTypes::RT_isRoot, DSRTypes::VT_Container);
        } else if (it->depth > depth) {
            added = t.addContentItem(sr_rel(it->rel), sr_type(it->type), DSRTypes::AM_belowCurrent);
        } else {
            for (int d = depth; d > it->depth; d--) t.goUp();
            added = t.addContentItem(sr_rel(it->rel), sr_type(it->type), DSRTypes::AM_afterCurrent);
        }
        if (added == 0) return sp_fail(err, SP_EDICOM, "%s: SR item %d (%s) cannot go there", path, i, nz(it->concept.meaning));
        depth = it->depth;
        DSRContentItem &ci = t.getCurrentContentItem();
        OFCondition c = ci.setConceptName(sr_code(it->concept));
        if (c.good() && it->template_id) c = ci.setTemplateIdentification(it->template_id, "DCMR");
        if (c.good()) {
            switch (it->type) {
            case SP_SR_CODE: c = ci.setCodeValue(sr_code(it->code)); break;
            case SP_SR_NUM: c = ci.setNumericValue(DSRNumericMeasurementValue(ds_str(it->num).c_str(), sr_code(it->code))); break;
            case SP_SR_TEXT:
            case SP_SR_UIDREF: c = ci.setStringValue(nz(it->text)); break;
            case SP_SR_IMAGE: {
                DSRImageReferenceValue v(nz(it->ref_sop_class), nz(it->ref_sop_instance));
                if (it->ref_segment > 0) v.getSegmentList().addItem((Uint32)it->ref_segment);
                c = ci.setImageReference(v);
                break;
            }
            default: break;
            }
        }
        if (c.bad()) return sp_fail(err, SP_EDICOM, "%s: SR item %d (%s): %s", path, i, nz(it->concept.meaning), c.text());
    }
    if (s->private_scheme) {
        DSRCodingSchemeIdentificationList &cs = doc.getCodingSchemeIdentification();
        if (cs.addItem(s->private_scheme).good()) cs.setCodingSchemeName(nz(s->private_scheme_name));
    }
    doc.completeDocument();
    DSRSOPInstanceReferenceList &ev = doc.getCurrentRequestedProcedureEvidence();
    for (int i = 0; i < s->m.nref; i++)
        ev.addItem(nz(s->m.study_uid), nz(s->m.ref_series_uid), nz(s->m.ref_sop_class_uid), s->m.ref_sop_instance_uid[i]);
    if (s->evidence_sop_instance)
        ev.addItem(nz(s->m.study_uid), nz(s->evidence_series_uid), nz(s->evidence_sop_class), s->evidence_sop_instance);
    DcmFileFormat ff;
    DcmDataset *ds = ff.getDataset();
    OFCondition c = doc.write(*ds);
    if (c.bad()) return sp_fail(err, SP_EDICOM, "%s: cannot build the SR document (%s)", path, c.text());
    put_derived(ds, &s->m);
    c = save_with_meta(ff, path);
    if (c.bad()) return sp_fail(err, SP_EIO, "%s: cannot write (%s)", path, c.text());
    return SP_OK;
    SP_SHIM_CATCH(err)
}
