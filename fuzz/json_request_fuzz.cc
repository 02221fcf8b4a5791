// JSON request decoding: any body (and a few content types) sent to POST /api/links, the API's
// one JSON-decoding route, through the router. Properties: a clear answer (201, 400, 409, 413,
// 415), never a handler exception; a 201's link has a valid target; check_reply for every reply.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_support.h"
#include "kurz/links/url.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const char* kTypes[] = {"application/json", "application/json; charset=utf-8",
                                 "APPLICATION/JSON ", "text/plain"};
  const char* type = kTypes[size == 0 ? 0 : data[0] % 4];
  const std::string body(reinterpret_cast<const char*>(data), size);
  auto& app = kurz::fuzz::App::instance();
  kurz::fuzz::MapHeaders headers;
  headers.values["content-type"] = type;
  kurz::platform::Request request(kurz::platform::Method::Post, "/api/links", "", body, headers,
                                  "192.0.2.1", "fuzz");
  kurz::platform::Reply reply;
  try {
    reply = app.dispatch(request);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "handler threw: %s\n", e.what());
    std::abort();
  }
  kurz::fuzz::check_reply(reply);
  const int s = reply.status;
  kurz::fuzz::require(s == 201 || s == 400 || s == 409 || s == 413 || s == 415, "a clear answer");
  const auto decoded = nlohmann::json::parse(reply.body, nullptr, false);
  kurz::fuzz::require(!decoded.is_discarded(), "the answer is JSON");
  if (s == 201) {
    kurz::fuzz::require(!kurz::links::validate_url(decoded.value("url", "")),
                        "stored url is valid");
  } else {
    kurz::fuzz::require(decoded.contains("error"), "an error body");
  }
  return 0;
}
