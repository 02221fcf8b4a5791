#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "kurz/common/error.h"

namespace kurz::qr {

// Quiet zone around the symbol, in modules (what the QR specification asks for).
inline constexpr int kQuietZone = 4;
// The most bytes one QR code (version 40, error correction level M, 8-bit mode) can hold.
inline constexpr std::size_t kMaxTextBytes = 2331;

// A QR symbol: `size` x `size` modules, row-major, true for dark.
struct QrMatrix {
  int version = 0;  // 1..40; size == 17 + 4 * version
  int size = 0;
  std::vector<bool> modules;

  bool dark(int x, int y) const {
    return modules[static_cast<std::size_t>(y) * static_cast<std::size_t>(size) +
                   static_cast<std::size_t>(x)];
  }
};

// Encodes `text` (any bytes, typically a short URL) with error correction level M in 8-bit mode,
// choosing the smallest version that fits. Deterministic. Thread-safe (libqrencode is built
// with pthreads on Debian). Errors (Invalid): "qr_text_empty", "qr_text_too_long" (more than
// kMaxTextBytes bytes).
common::Result<QrMatrix> encode(std::string_view text);

}  // namespace kurz::qr
