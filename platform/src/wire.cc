#include "wire.h"

#include <algorithm>
#include <charconv>

namespace kurz::platform::wire {
namespace {

void append_number(std::string& out, std::size_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
  out.append(digits, static_cast<std::size_t>(end - digits));
}

bool breaks_line(char c) { return c == '\r' || c == '\n' || c == '\0'; }

// Appends `text` with CR, LF and NUL turned into spaces. The common case (no byte at or below
// CR) is one scan with a single comparison per byte, then one append.
void append_neutralised(std::string& out, std::string_view text) {
  const auto low = std::find_if(text.begin(), text.end(),
                                [](char c) { return static_cast<unsigned char>(c) <= '\r'; });
  if (low == text.end()) {
    out.append(text);
    return;
  }
  for (const char c : text) out.push_back(breaks_line(c) ? ' ' : c);
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  append_neutralised(out, name);
  out.append(": ", 2);
  append_neutralised(out, value);
  out.append("\r\n", 2);
}

}  // namespace

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

bool has_body(int status) { return status >= 200 && status != 204 && status != 304; }

void append_answer(std::string& out, const Reply& reply, const Framing& framing) {
  const bool body = has_body(reply.status);
  out.reserve(out.size() + 160 + framing.instance_id.size() + framing.request_id.size() +
              reply.content_type.size() + (body && !framing.head_request ? reply.body.size() : 0));
  out.append("HTTP/1.1 ", 9);
  append_number(out, static_cast<std::size_t>(reply.status < 0 ? 0 : reply.status));
  out.push_back(' ');
  out.append(reason_phrase(reply.status));
  out.append("\r\n", 2);
  append_header(out, "X-Instance-Id", framing.instance_id);
  append_header(out, "X-Request-Id", framing.request_id);
  if (!reply.content_type.empty()) append_header(out, "Content-Type", reply.content_type);
  for (const auto& [name, value] : reply.headers) append_header(out, name, value);
  if (body) {
    out.append("Content-Length: ", 16);
    append_number(out, reply.body.size());
    out.append("\r\n", 2);
  }
  out.append(framing.keep_alive ? std::string_view("Connection: keep-alive\r\n\r\n")
                                : std::string_view("Connection: close\r\n\r\n"));
  if (body && !framing.head_request) out.append(reply.body);
}

std::string answer(const Reply& reply, const Framing& framing) {
  std::string out;
  append_answer(out, reply, framing);
  return out;
}

}  // namespace kurz::platform::wire
