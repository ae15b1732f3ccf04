#ifndef HTTPKIT_CZLIB_SHIM_H
#define HTTPKIT_CZLIB_SHIM_H
#include <zlib.h>

// deflateInit2 and inflateInit2 are function-like macros, which Swift cannot import.
// windowBits 31 = gzip wrapper; 47 = inflate either gzip or zlib (auto-detect).
static inline int httpkit_deflateInit2(z_streamp strm, int level, int windowBits) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
static inline int httpkit_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
#endif
