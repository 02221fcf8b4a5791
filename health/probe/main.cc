// kurz-probe [--timeout-ms N] URL — exit 0 on HTTP 200, 1 otherwise, 2 on a usage error.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "probe.h"

namespace {

constexpr long kMaxTimeoutMs = 600000;

int usage(const char* why) {
  if (why != nullptr) std::fprintf(stderr, "probe: %s\n", why);
  std::fprintf(stderr, "usage: kurz-probe [--timeout-ms N] http://host[:port]/path\n");
  return 2;
}

// Strict decimal in 1..kMaxTimeoutMs; -1 otherwise.
long parse_timeout(std::string_view text) {
  if (text.empty() || text.size() > 7) return -1;
  long value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value >= 1 && value <= kMaxTimeoutMs ? value : -1;
}

}  // namespace

int main(int argc, char** argv) {
  long timeout_ms = 2000;
  const char* url_arg = nullptr;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::printf("usage: kurz-probe [--timeout-ms N] http://host[:port]/path\n");
      return EXIT_SUCCESS;
    }
    std::string_view value;
    if (arg == "--timeout-ms") {
      if (i + 1 >= argc) return usage("--timeout-ms needs a value");
      value = argv[++i];
    } else if (arg.rfind("--timeout-ms=", 0) == 0) {
      value = arg.substr(13);
    } else if (!arg.empty() && arg.front() == '-') {
      return usage(("unknown option " + std::string(arg)).c_str());
    } else if (url_arg != nullptr) {
      return usage("only one URL");
    } else {
      url_arg = argv[i];
      continue;
    }
    timeout_ms = parse_timeout(value);
    if (timeout_ms < 0) return usage("--timeout-ms must be an integer from 1 to 600000");
  }
  if (url_arg == nullptr) return usage("missing URL");

  std::string error;
  const auto url = kurz::health::parse_probe_url(url_arg, &error);
  if (!url) return usage(("invalid URL: " + error).c_str());

  const auto result = kurz::health::probe(*url, std::chrono::milliseconds(timeout_ms));
  if (result.ok) return EXIT_SUCCESS;
  std::fprintf(stderr, "probe: %s\n", result.message.c_str());
  return EXIT_FAILURE;
}
