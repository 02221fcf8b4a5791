#include "http_response.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace kurz::load {

namespace {

constexpr size_t kMaxHead = 64 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool icontains(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (iequals(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

ResponseParser::Result ResponseParser::fail(std::string message) {
  error_ = std::move(message);
  return Result::kError;
}

ResponseParser::Result ResponseParser::feed(const char* data, size_t size) {
  if (state_ == State::kDone) return Result::kDone;
  buffer_.append(data, size);
  return parse();
}

ResponseParser::Result ResponseParser::finish() {
  if (state_ == State::kUntilClose) {
    state_ = State::kDone;
    pos_ = buffer_.size();
    return Result::kDone;
  }
  if (state_ == State::kDone) return Result::kDone;
  return fail(buffer_.empty() ? "connection closed before any response"
                              : "connection closed in the middle of a response");
}

void ResponseParser::next() {
  buffer_.erase(0, pos_);
  pos_ = 0;
  state_ = State::kHead;
  status_ = 0;
  close_after_ = false;
  remaining_ = 0;
  location_.clear();
  request_id_.clear();
  error_.clear();
  body_.clear();
}

ResponseParser::Result ResponseParser::parse_head(size_t end) {
  const std::string_view head(buffer_.data() + pos_, end - pos_);
  const auto line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  // HTTP/1.1 302 Found
  if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/" || status_line[8] != ' ')
    return fail("bad status line");
  const bool http10 = status_line.substr(0, 8) == "HTTP/1.0";
  const auto code = status_line.substr(9, 3);
  int status = 0;
  const auto [p, ec] = std::from_chars(code.data(), code.data() + 3, status);
  if (ec != std::errc() || p != code.data() + 3 || status < 100 || status > 599)
    return fail("bad status code");
  status_ = status;
  close_after_ = http10;
  bool chunked = false;
  bool have_length = false;
  size_t length = 0;
  size_t at = line_end + 2;
  while (at < head.size()) {
    auto next_end = head.find("\r\n", at);
    if (next_end == std::string_view::npos) next_end = head.size();
    const std::string_view line = head.substr(at, next_end - at);
    at = next_end + 2;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      const auto [q, e] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (e != std::errc() || q != value.data() + value.size()) return fail("bad Content-Length");
      have_length = true;
    } else if (iequals(name, "transfer-encoding")) {
      chunked = icontains(value, "chunked");
    } else if (iequals(name, "connection")) {
      if (icontains(value, "close")) close_after_ = true;
      if (icontains(value, "keep-alive")) close_after_ = false;
    } else if (iequals(name, "location")) {
      location_ = std::string(value);
    } else if (iequals(name, "x-request-id")) {
      request_id_ = std::string(value);
    }
  }
  pos_ = end + 4;
  if (status_ < 200 || status_ == 204 || status_ == 304) {
    if (status_ < 200) {  // 100 Continue and friends: skip, the real answer follows
      buffer_.erase(0, pos_);
      pos_ = 0;
      status_ = 0;
      location_.clear();
      request_id_.clear();
      return parse();
    }
    state_ = State::kDone;
  } else if (chunked) {
    state_ = State::kChunkSize;
  } else if (have_length) {
    remaining_ = length;
    state_ = State::kLength;
  } else {
    state_ = State::kUntilClose;
    close_after_ = true;
  }
  return Result::kNeedMore;
}

ResponseParser::Result ResponseParser::parse() {
  for (;;) {
    switch (state_) {
      case State::kHead: {
        const auto end = buffer_.find("\r\n\r\n", pos_);
        if (end == std::string::npos) {
          if (buffer_.size() - pos_ > kMaxHead) return fail("response head over 64 KiB");
          return Result::kNeedMore;
        }
        if (parse_head(end) == Result::kError) return Result::kError;
        if (state_ == State::kHead) return Result::kNeedMore;  // after a 1xx, nothing more yet
        break;
      }
      case State::kLength: {
        const size_t have = std::min(remaining_, buffer_.size() - pos_);
        if (keep_body_) body_.append(buffer_, pos_, have);
        pos_ += have;
        remaining_ -= have;
        if (remaining_ > 0) return Result::kNeedMore;
        state_ = State::kDone;
        break;
      }
      case State::kChunkSize: {
        const auto end = buffer_.find("\r\n", pos_);
        if (end == std::string::npos) {
          if (buffer_.size() - pos_ > 1024) return fail("bad chunk size line");
          return Result::kNeedMore;
        }
        std::string_view line(buffer_.data() + pos_, end - pos_);
        line = line.substr(0, line.find(';'));
        line = trim(line);
        size_t size = 0;
        const auto [q, e] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
        if (line.empty() || e != std::errc() || q != line.data() + line.size())
          return fail("bad chunk size");
        pos_ = end + 2;
        remaining_ = size;
        state_ = size == 0 ? State::kTrailer : State::kChunkData;
        break;
      }
      case State::kChunkData: {
        const size_t have = std::min(remaining_, buffer_.size() - pos_);
        if (keep_body_) body_.append(buffer_, pos_, have);
        pos_ += have;
        remaining_ -= have;
        if (remaining_ > 0) return Result::kNeedMore;
        state_ = State::kChunkEnd;
        break;
      }
      case State::kChunkEnd: {
        if (buffer_.size() - pos_ < 2) return Result::kNeedMore;
        if (buffer_.compare(pos_, 2, "\r\n") != 0) return fail("bad chunk end");
        pos_ += 2;
        state_ = State::kChunkSize;
        break;
      }
      case State::kTrailer: {  // trailer lines, then an empty line
        const auto end = buffer_.find("\r\n", pos_);
        if (end == std::string::npos) return Result::kNeedMore;
        const bool last = end == pos_;
        pos_ = end + 2;
        if (last) state_ = State::kDone;
        break;
      }
      case State::kUntilClose:
        if (keep_body_) body_.append(buffer_, pos_, std::string::npos);
        pos_ = buffer_.size();
        return Result::kNeedMore;
      case State::kDone:
        return Result::kDone;
    }
  }
}

}  // namespace kurz::load
