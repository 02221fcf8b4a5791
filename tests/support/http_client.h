#pragma once
// A deliberately small HTTP/1.1 client over a raw socket, for tests that must control the exact
// bytes sent and see whether a connection stays open (keep-alive, 413, shutdown).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kurz::testing {

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Case-insensitive lookup of the first header with this name.
  std::optional<std::string> header(std::string_view name) const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class HttpConnection {
 public:
  explicit HttpConnection(std::uint16_t port,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  void send_raw(std::string_view bytes);
  // Reads one response; throws std::runtime_error on timeout or a malformed answer.
  HttpResponse read_response(bool head_request = false);
  // Sends a request (adding Host and, with a body, Content-Length) and reads its response.
  HttpResponse request(std::string_view method, std::string_view target, std::string_view body = {},
                       const Headers& headers = {});
  // True if the server closed the connection within `wait` (reads EOF or a reset).
  bool closed_by_peer(std::chrono::milliseconds wait);

 private:
  bool fill();  // reads more bytes into buffer_; false on EOF
  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
};

// One request on a fresh connection.
HttpResponse http(std::uint16_t port, std::string_view method, std::string_view target,
                  std::string_view body = {}, const Headers& headers = {});

}  // namespace kurz::testing
