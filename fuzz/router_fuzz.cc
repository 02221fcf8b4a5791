// Request handling through the router: any method, path, query, headers and body against every
// route of the application (the monolith over memory). Input layout: one byte of method, then
// NUL-separated path, query, content type, API key header, body. Properties: check_reply (status,
// no CR/LF/NUL in a header, a safe Location) and no handler exception.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using kurz::platform::Method;
  if (size == 0) return 0;
  static const Method kMethods[] = {Method::Get,    Method::Head,    Method::Post, Method::Put,
                                    Method::Delete, Method::Options, Method::Other};
  const Method method = kMethods[data[0] % 7];
  std::vector<std::string> parts(5);
  std::size_t part = 0;
  for (std::size_t i = 1; i < size; ++i) {
    if (data[i] == 0 && part + 1 < parts.size()) {
      ++part;
    } else {
      parts[part].push_back(static_cast<char>(data[i]));
    }
  }
  auto& app = kurz::fuzz::App::instance();
  kurz::fuzz::MapHeaders headers;
  if (!parts[2].empty()) headers.values["content-type"] = parts[2];
  if (!parts[3].empty()) headers.values["x-api-key"] = parts[3];
  headers.values["referer"] = parts[1];
  kurz::platform::Request request(method, parts[0], parts[1], parts[4], headers, "192.0.2.1",
                                  "fuzz");
  try {
    kurz::fuzz::check_reply(app.dispatch(request));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "handler threw: %s\n", e.what());
    std::abort();
  }
  return 0;
}
