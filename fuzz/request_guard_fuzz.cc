// The request framing guard (platform/src/request_guard.h) on any byte stream: fed whole and in
// the chunks the input's first byte chooses, it gives the same verdict; it never lets through
// more than it was given; once it refuses, it refuses everything after.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "request_guard.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 16;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  kurz::platform::RequestGuard whole;
  const auto all = whole.feed(bytes);
  kurz::fuzz::require(all.pass <= bytes.size(), "passes at most what it got");
  kurz::fuzz::require(all.status == 0 || (all.status >= 400 && all.status <= 599), "a 4xx/5xx");
  kurz::fuzz::require(all.status != 0 || all.pass == bytes.size(), "fine means all passed");
  kurz::platform::RequestGuard chunked;
  int status = 0;
  for (std::size_t at = 0; at < bytes.size() && status == 0; at += chunk) {
    const auto part = bytes.substr(at, chunk);
    const auto v = chunked.feed(part);
    kurz::fuzz::require(v.pass <= part.size(), "chunk: passes at most what it got");
    status = v.status;
  }
  kurz::fuzz::require(status == all.status, "the same verdict whole and in chunks");
  if (all.status != 0)
    kurz::fuzz::require(whole.feed("GET / HTTP/1.1\r\n\r\n").status != 0, "refused for good");
  return 0;
}
