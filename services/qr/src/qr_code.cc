#include "kurz/qr/qr_code.h"

#include <qrencode.h>

#include <cerrno>
#include <memory>

namespace kurz::qr {
namespace {

using common::Error;
using common::ErrorKind;

struct QrcodeDeleter {
  void operator()(QRcode* code) const { QRcode_free(code); }
};

}  // namespace

common::Result<QrMatrix> encode(std::string_view text) {
  if (text.empty()) {
    return Error{ErrorKind::Invalid, "qr_text_empty", "there is no text to encode"};
  }
  if (text.size() > kMaxTextBytes) {
    return Error{ErrorKind::Invalid, "qr_text_too_long",
                 "the text is too long for a QR code (at most 2331 bytes)"};
  }
  errno = 0;
  const std::unique_ptr<QRcode, QrcodeDeleter> code(
      QRcode_encodeData(static_cast<int>(text.size()),
                        reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M));
  if (!code) {
    if (errno == ERANGE) {
      return Error{ErrorKind::Invalid, "qr_text_too_long", "the text is too long for a QR code"};
    }
    return Error{ErrorKind::Internal, "qr_failed", "the QR code could not be generated"};
  }
  QrMatrix matrix;
  matrix.version = code->version;
  matrix.size = code->width;
  const std::size_t count =
      static_cast<std::size_t>(code->width) * static_cast<std::size_t>(code->width);
  matrix.modules.resize(count);
  for (std::size_t i = 0; i < count; ++i) matrix.modules[i] = (code->data[i] & 1) != 0;
  return matrix;
}

}  // namespace kurz::qr
