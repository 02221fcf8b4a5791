#pragma once
// The request framing guard: sees a connection's raw bytes before Pistache's parser does and
// refuses, with a clear 4xx, every request head whose framing could be read two ways (request
// smuggling) or that Pistache 0.0.5 would hang on or misread:
//   - a line not ended by CRLF (bare LF or CR), obs-fold (a line starting with space or tab),
//     a NUL or another control character in a header, whitespace before a field's colon, an
//     empty field name                                                     -> 400 bad_request
//   - more than kMaxHeaders header fields                                  -> 431
//   - Content-Length more than once, or not a plain decimal number         -> 400
//   - any Transfer-Encoding (kurz's API bodies are small JSON with a length; chunked framing next
//     to a length is the classic smuggling vector)                         -> 501 (400 with CL)
// It tracks each request's end from its Content-Length, so pipelined requests are each checked;
// bytes after a refused head never reach the parser (the connection is closed after the 4xx).
// Not thread-safe: one per connection, fed in order.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kurz::platform {

inline constexpr std::size_t kMaxHeaders = 100;

class RequestGuard {
 public:
  struct Verdict {
    // How many bytes of the input may go to the parser (all of them when `status` is 0).
    std::size_t pass = 0;
    int status = 0;  // 0: fine so far; else the 4xx/5xx to answer, then close
    std::string code, message;
  };

  // Feeds the next bytes of the connection. Once a verdict has a status, the guard refuses
  // everything after it (the caller closes the connection). When `ends` is given, it receives
  // the offsets in `bytes` just past each request that these bytes complete (head and body), in
  // order: where a parser that takes one request at a time must cut.
  Verdict feed(std::string_view bytes, std::vector<std::size_t>* ends = nullptr);

 private:
  Verdict refuse(std::size_t pass, int status, std::string code, std::string message);
  // Checks the lines of head_ that are complete (ended by LF) and not checked yet, in order, and
  // refuses a NUL in the line still arriving. Checking line by line as the bytes come gives the
  // same verdict however the bytes are split into reads.
  Verdict check_lines(std::size_t pass);
  // After the blank line: the framing decision (Content-Length, Transfer-Encoding); sets
  // body_left_ and starts the next head.
  Verdict finish_head(std::size_t pass);

  std::string head_;          // the current request's head so far
  std::size_t checked_ = 0;   // head_ bytes already checked (whole lines)
  bool request_line_ = true;  // the next complete line is the request line
  std::size_t fields_ = 0;    // header fields so far
  std::size_t lengths_ = 0;   // Content-Length fields so far
  unsigned long long length_ = 0;
  bool transfer_encoding_ = false;
  std::size_t body_left_ = 0;  // bytes of the current request's body still to come
  bool in_body_ = false;
  bool refused_ = false;
};

}  // namespace kurz::platform
