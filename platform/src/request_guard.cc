#include "request_guard.h"

#include <cctype>
#include <utility>

namespace kurz::platform {
namespace {

constexpr std::size_t kMaxHeadBytes = 1 << 20;  // MAX_REQUEST_BYTES bounds it first

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

}  // namespace

RequestGuard::Verdict RequestGuard::refuse(std::size_t pass, int status, std::string code,
                                           std::string message) {
  refused_ = true;
  return Verdict{pass, status, std::move(code), std::move(message)};
}

RequestGuard::Verdict RequestGuard::check_lines(std::size_t pass) {
  // Every LF must follow a CR; no lone CR (a control character).
  for (;;) {
    const std::size_t lf = head_.find('\n', checked_);
    if (lf == std::string::npos) break;
    if (lf == checked_ || head_[lf - 1] != '\r') {
      return refuse(pass, 400, "bad_request", "every line of the request head must end with CRLF");
    }
    const std::string_view line(head_.data() + checked_, lf - 1 - checked_);
    checked_ = lf + 1;
    for (const char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7F) {
        return refuse(pass, 400, "bad_request", "control characters in the request head");
      }
    }
    if (request_line_) {  // Pistache checks its shape
      request_line_ = false;
      continue;
    }
    if (line.empty()) continue;  // cannot happen: the blank line is not part of head_
    if (line.front() == ' ' || line.front() == '\t') {
      return refuse(pass, 400, "bad_request", "obsolete line folding in a header");
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return refuse(pass, 400, "bad_request", "a header line without a field name");
    }
    const std::string_view name = line.substr(0, colon);
    for (const char c : name) {
      if (c == ' ' || c == '\t') {
        return refuse(pass, 400, "bad_request", "whitespace in a header field name");
      }
    }
    if (++fields_ > kMaxHeaders) {
      return refuse(pass, 431, "headers_too_large",
                    "more than " + std::to_string(kMaxHeaders) + " header fields");
    }
    const std::string_view value = trim(line.substr(colon + 1));
    if (ieq(name, "Content-Length")) {
      if (++lengths_ > 1) return refuse(pass, 400, "bad_request", "Content-Length more than once");
      if (value.empty() || value.size() > 15) {
        return refuse(pass, 400, "bad_request", "Content-Length is not a length");
      }
      length_ = 0;
      for (const char c : value) {
        if (c < '0' || c > '9') {
          return refuse(pass, 400, "bad_request", "Content-Length is not a length");
        }
        length_ = length_ * 10 + static_cast<unsigned>(c - '0');
      }
    } else if (ieq(name, "Transfer-Encoding")) {
      transfer_encoding_ = true;
    }
  }
  // A NUL is refused as soon as it is seen, not only when its line is complete: whatever the
  // rest of that line, its first problem is a control character.
  if (head_.find('\0', checked_) != std::string::npos) {
    return refuse(pass, 400, "bad_request", "control characters in the request head");
  }
  return Verdict{pass, 0, {}, {}};
}

RequestGuard::Verdict RequestGuard::finish_head(std::size_t pass) {
  if (transfer_encoding_) {
    if (lengths_ > 0) {
      return refuse(pass, 400, "bad_request", "both Content-Length and Transfer-Encoding");
    }
    return refuse(pass, 501, "not_implemented",
                  "Transfer-Encoding is not supported: send the body with a Content-Length");
  }
  body_left_ = static_cast<std::size_t>(length_);
  in_body_ = body_left_ > 0;
  head_.clear();
  checked_ = 0;
  request_line_ = true;
  fields_ = lengths_ = 0;
  length_ = 0;
  return Verdict{pass, 0, {}, {}};
}

RequestGuard::Verdict RequestGuard::feed(std::string_view bytes, std::vector<std::size_t>* ends) {
  if (ends != nullptr) ends->clear();
  if (refused_) return Verdict{0, 400, "bad_request", "the connection is closing"};
  std::size_t at = 0;
  while (at < bytes.size()) {
    if (in_body_) {
      const std::size_t take = std::min(body_left_, bytes.size() - at);
      at += take;
      body_left_ -= take;
      in_body_ = body_left_ > 0;
      if (!in_body_ && ends != nullptr) ends->push_back(at);
      continue;
    }
    // In a head: look for its end, the blank line. CRLFs before a request line are dropped
    // (RFC 9112 2.2), however the bytes are split into reads.
    const std::size_t head_start = head_.empty() ? at : 0;
    const std::size_t appended_at = head_.size();
    head_.append(bytes.substr(at));
    std::size_t lead = 0;
    while (head_.compare(lead, 2, "\r\n") == 0) lead += 2;
    head_.erase(0, lead);  // only ever before the request line, so nothing checked moves
    const std::size_t before = appended_at > lead ? appended_at - lead : 0;
    const std::size_t end = head_.find("\r\n\r\n", before >= 3 ? before - 3 : 0);
    if (end == std::string::npos) {
      auto verdict = check_lines(head_start);
      if (verdict.status != 0) return verdict;
      if (head_.size() > kMaxHeadBytes) {
        return refuse(head_start, 431, "headers_too_large", "head too large");
      }
      return Verdict{bytes.size(), 0, {}, {}};
    }
    // Bytes of this input up to the end of the head: head_ holds what was kept of earlier
    // inputs (appended_at bytes), then this input from `at`, less the `lead` dropped in front.
    const std::size_t consumed = end + 4 + lead - appended_at;
    head_.resize(end + 2);  // keep the last field's CRLF
    at += consumed;
    auto verdict = check_lines(head_start);
    if (verdict.status == 0) verdict = finish_head(head_start);
    if (verdict.status != 0) return verdict;
    if (!in_body_ && ends != nullptr) ends->push_back(at);
  }
  return Verdict{bytes.size(), 0, {}, {}};
}

}  // namespace kurz::platform
