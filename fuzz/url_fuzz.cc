// links::validate_url: what it accepts is an absolute http(s) URL of at most 2048 bytes with no
// control characters, no spaces and no CR/LF, whatever the input.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "kurz/common/utf8.h"
#include "kurz/links/url.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string url(reinterpret_cast<const char*>(data), size);
  const auto error = kurz::links::validate_url(url);
  if (error) {
    kurz::fuzz::require(error->code == "invalid_url" && !error->message.empty(), "error shape");
    return 0;
  }
  std::string lower = url.substr(0, 8);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  kurz::fuzz::require(lower.rfind("http://", 0) == 0 || lower.rfind("https://", 0) == 0, "scheme");
  kurz::fuzz::require(url.size() <= kurz::links::kMaxUrlBytes, "length");
  kurz::fuzz::require(kurz::common::is_valid_utf8(url), "UTF-8");
  for (const unsigned char c : url) {
    kurz::fuzz::require(c > 0x20 && c != 0x7F, "no control characters or spaces");
  }
  const auto host_start = url.find("//") + 2;
  kurz::fuzz::require(host_start < url.size() && url[host_start] != '/', "a host");
  return 0;
}
