#include "requests.h"

#include <unistd.h>

#include <chrono>

namespace kurz::load {

RequestBuilder::RequestBuilder(const BaseUrl& url, std::string run_id, const std::string& api_key)
    : prefix_(url.prefix),
      common_headers_("Host: " + url.host_header() +
                      "\r\nUser-Agent: kurz-load\r\nAccept: */*\r\n"),
      create_headers_(api_key.empty() ? "" : "X-API-Key: " + api_key + "\r\n"),
      run_id_(std::move(run_id)) {}

std::string RequestBuilder::get(const std::string& path) const {
  return "GET " + prefix_ + path + " HTTP/1.1\r\n" + common_headers_ + "\r\n";
}

std::string RequestBuilder::create(const std::string& target) const {
  // Targets are built here from safe characters: no JSON escaping needed.
  const std::string body = "{\"url\":\"" + target + "\"}";
  return "POST " + prefix_ + "/api/links HTTP/1.1\r\n" + common_headers_ + create_headers_ +
         "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

std::string RequestBuilder::unique_target(unsigned sender, unsigned long long n) const {
  return "https://example.com/kurz-load/" + run_id_ + "/" + std::to_string(sender) + "-" +
         std::to_string(n);
}

std::string RequestBuilder::for_kind(Kind kind, const std::string& code, unsigned sender,
                                     unsigned long long n) const {
  switch (kind) {
    case Kind::kRedirect:
      return get("/" + code);
    case Kind::kCreate:
      return create(unique_target(sender, n));
    case Kind::kStats:
      return get("/api/stats/" + code);
    case Kind::kQr:
      return get("/qr/" + code + (n % 2 == 0 ? ".svg" : ".png"));
  }
  return get("/" + code);
}

std::string make_run_id() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  return std::to_string(ms) + "-" + std::to_string(getpid());
}

}  // namespace kurz::load
