/* itk_shim.cpp - the ITK shim: the only file that includes ITK headers.
 *
 * DESIGN: type conversion and error mapping only. Exceptions never cross the
 * extern "C" boundary (SP_SHIM_TRY/CATCH): itk::ExceptionObject and any
 * other exception become SP_EITK, std::bad_alloc SP_ENOMEM. Buffers go into
 * ITK without a copy (ImportImageFilter, the caller keeps ownership);
 * results come back by memcpy from the filter's output. SmartPointers live
 * and die inside each function. Keep this file to a few filter types: each
 * one costs seconds and hundreds of MB to compile. */
#include "segment/itk_shim.h"

#include <itkBinaryMorphologicalClosingImageFilter.h>
#include <itkFlatStructuringElement.h>
#include <itkImportImageFilter.h>
#include <itkMultiThreaderBase.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <new>

#define SP_SHIM_TRY try {
#define SP_SHIM_CATCH(err)                                                                                 \
    }                                                                                                      \
    catch (const itk::ExceptionObject &e) { return sp_fail(err, SP_EITK, "ITK: %s", e.GetDescription()); } \
    catch (const std::bad_alloc &) { return sp_fail(err, SP_ENOMEM, "out of memory (ITK)"); }             \
    catch (const std::exception &e) { return sp_fail(err, SP_EITK, "ITK: %s", e.what()); }                \
    catch (...) { return sp_fail(err, SP_EITK, "unknown C++ exception in ITK"); }

namespace {

using Mask = itk::Image<unsigned char, 3>;
using Import = itk::ImportImageFilter<unsigned char, 3>;
using Box = itk::FlatStructuringElement<3>;
using Closing = itk::BinaryMorphologicalClosingImageFilter<Mask, Mask, Box>;

/* The mask as an ITK image over the caller's buffer (not copied, not freed). */
Mask::Pointer import_mask(uint8_t *mask, const int dims[3], size_t n)
{
    Import::Pointer imp = Import::New();
    Import::SizeType size;
    Import::IndexType start;
    for (unsigned a = 0; a < 3; a++) size[a] = (itk::SizeValueType)dims[a], start[a] = 0;
    imp->SetRegion(Import::RegionType(start, size));
    imp->SetImportPointer(mask, (itk::SizeValueType)n, /*LetImageContainerManageMemory=*/false);
    imp->Update();
    Mask::Pointer img = imp->GetOutput();
    img->DisconnectPipeline();
    return img;
}

} // namespace

extern "C" void sp_itk_init(int nthreads)
{
    try {
        itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads((itk::ThreadIdType)(nthreads > 0 ? nthreads : 1));
    } catch (...) {
        /* setting a number cannot fail in ITK 5.2; never let anything escape */
    }
}

extern "C" sp_status sp_itk_binary_close_box(uint8_t *mask, const int dims[3], int radius, sp_err *err)
{
    if (!mask || !dims) return sp_fail(err, SP_EINVAL, "itk closing: NULL %s", mask ? "dims" : "mask");
    if (dims[0] < 1 || dims[1] < 1 || dims[2] < 1)
        return sp_fail(err, SP_EINVAL, "itk closing: dimensions %d x %d x %d (each must be >= 1)", dims[0], dims[1],
                       dims[2]);
    if (radius < 0 || radius > SP_ITK_MAX_RADIUS)
        return sp_fail(err, SP_EINVAL, "itk closing: radius %d outside 0..%d", radius, SP_ITK_MAX_RADIUS);
    size_t n = (size_t)dims[0] * (size_t)dims[1];
    if (n > SIZE_MAX / (size_t)dims[2])
        return sp_fail(err, SP_EINVAL, "itk closing: %d x %d x %d voxels overflow", dims[0], dims[1], dims[2]);
    n *= (size_t)dims[2];
    /* ITK's binary filters take one foreground value: make the mask 0/1. */
    for (size_t i = 0; i < n; i++) mask[i] = mask[i] != 0;
    if (radius == 0) return SP_OK;
    SP_SHIM_TRY
    Box::RadiusType r;
    r.Fill((itk::SizeValueType)radius);
    Closing::Pointer close = Closing::New();
    close->SetInput(import_mask(mask, dims, n));
    close->SetKernel(Box::Box(r));
    close->SetForegroundValue(1);
    close->SetSafeBorder(true); /* outside the volume is background, not foreground */
    close->Update();
    const Mask *out = close->GetOutput();
    if (out->GetBufferedRegion().GetNumberOfPixels() != n)
        return sp_fail(err, SP_EINTERNAL, "itk closing: output has %lu voxels, not %zu",
                       (unsigned long)out->GetBufferedRegion().GetNumberOfPixels(), n);
    /* Outside the foreground the filter copies the input: already 0/1. */
    std::memcpy(mask, out->GetBufferPointer(), n);
    return SP_OK;
    SP_SHIM_CATCH(err)
}
