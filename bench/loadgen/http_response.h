#pragma once
// An incremental HTTP/1.1 response parser for one keep-alive connection: feed it what the socket
// gave, it says when a whole response (Content-Length, chunked, or until close) is in. It keeps
// the status, the Location and X-Request-Id headers, and whether the server closes afterwards.
#include <cstddef>
#include <string>
#include <string_view>

namespace kurz::load {

class ResponseParser {
 public:
  // With keep_body, the (de-chunked) body is collected; otherwise it is skipped.
  explicit ResponseParser(bool keep_body = false) : keep_body_(keep_body) {}

  enum class Result { kNeedMore, kDone, kError };

  // Appends bytes and parses as far as possible. After kDone, call next() before the next one.
  Result feed(const char* data, size_t size);
  // The connection hit end of file: a response delimited by close is complete now.
  Result finish();
  // Drops the finished response, keeping bytes that followed it.
  void next();
  // True while nothing of the current response has arrived.
  bool empty() const { return buffer_.empty() && state_ == State::kHead; }

  int status() const { return status_; }
  bool close_after() const { return close_after_; }
  const std::string& location() const { return location_; }
  const std::string& request_id() const { return request_id_; }
  const std::string& error() const { return error_; }
  const std::string& body() const { return body_; }

 private:
  enum class State {
    kHead,
    kLength,
    kChunkSize,
    kChunkData,
    kChunkEnd,
    kTrailer,
    kUntilClose,
    kDone
  };
  Result parse();
  Result parse_head(size_t end);
  Result fail(std::string message);

  std::string buffer_;
  size_t pos_ = 0;  // parsed up to here
  State state_ = State::kHead;
  int status_ = 0;
  bool close_after_ = false;
  size_t remaining_ = 0;
  std::string location_;
  std::string request_id_;
  std::string error_;
  bool keep_body_;
  std::string body_;
};

}  // namespace kurz::load
