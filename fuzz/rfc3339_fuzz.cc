// parse_rfc3339: whatever parses formats back to a string that parses to the same instant.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "kurz/common/time.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto t = kurz::common::parse_rfc3339(text);
  if (!t) return 0;
  const std::string formatted = kurz::common::format_rfc3339(*t);
  const auto again = kurz::common::parse_rfc3339(formatted);
  kurz::fuzz::require(again.has_value(), "formatted instant parses");
  // format_rfc3339 keeps milliseconds, rounding towards the past (also before 1970): compare
  // at that precision. (A first version truncated towards zero here: the fuzzer's first finding
  // was this property's own bug, 1892-12-31T23:59:59.999999999Z.)
  const auto ms = [](kurz::common::TimePoint p) {
    return std::chrono::floor<std::chrono::milliseconds>(p.time_since_epoch()).count();
  };
  kurz::fuzz::require(ms(*again) == ms(*t), "round trip");
  (void)kurz::common::format_day(*t);
  return 0;
}
