#include "kurz/platform/http.h"

#include <array>
#include <cstring>

namespace kurz::platform {

std::string_view to_string(Method method) {
  switch (method) {
    case Method::Get:
      return "GET";
    case Method::Head:
      return "HEAD";
    case Method::Post:
      return "POST";
    case Method::Put:
      return "PUT";
    case Method::Patch:
      return "PATCH";
    case Method::Delete:
      return "DELETE";
    case Method::Options:
      return "OPTIONS";
    case Method::Other:
      break;
  }
  return "OTHER";
}

Request::Request(Method method, std::string_view path, std::string_view query,
                 std::string_view body, const HeaderSource& headers, std::string_view client_ip,
                 std::string_view id)
    : method_(method),
      path_(path),
      query_(query),
      body_(body),
      headers_(headers),
      client_ip_(client_ip),
      id_(id) {}

std::optional<std::string> Request::query(std::string_view name) const {
  std::string_view rest = query_;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    const auto raw_key = pair.substr(0, eq);
    const auto key = percent_decode(raw_key, true);
    if (!key || *key != name) continue;
    const auto raw = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    auto decoded = percent_decode(raw, true);
    return decoded ? std::move(*decoded) : std::string(raw);
  }
  return std::nullopt;
}

const std::string& Request::param(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [key, value] : params_) {
    if (key == name) return value;
  }
  return kEmpty;
}

const std::string* Reply::find_header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return &value;
    }
  }
  return nullptr;
}

Reply Reply::json(int status, std::string body) {
  return Reply{status, "application/json", std::move(body), {}};
}
Reply Reply::text(int status, std::string body) {
  return Reply{status, "text/plain; charset=utf-8", std::move(body), {}};
}
Reply Reply::html(int status, std::string body) {
  return Reply{status, "text/html; charset=utf-8", std::move(body), {}};
}
Reply Reply::bytes(int status, std::string content_type, std::string body) {
  return Reply{status, std::move(content_type), std::move(body), {}};
}
Reply Reply::empty(int status) { return Reply{status, {}, {}, {}}; }

Reply Reply::redirect(std::string location, int status) {
  Reply reply{status, {}, {}, {}};
  reply.headers.reserve(2);  // room for the one a redirect route usually adds (Cache-Control)
  reply.with_header("Location", std::move(location));
  return reply;
}

Reply Reply::error(int status, std::string_view code, std::string_view message) {
  std::string body = R"({"error":{"code":")";
  append_json_escaped(body, code);
  body += R"(","message":")";
  append_json_escaped(body, message);
  body += "\"}}";
  return json(status, std::move(body));
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  std::size_t len = 0;
  unsigned min = 0;
  unsigned cp = 0;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1Fu;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0Fu;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07u;
    min = 0x10000;
  } else
    return 0;
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}
}  // namespace

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void append_json_escaped(std::string& out, std::string_view in) {
  static constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  // Runs of plain ASCII (the common case: paths, ids, routes) are copied in one go.
  const auto plain = [](unsigned char c) { return c >= 0x20 && c < 0x7F && c != '"' && c != '\\'; };
  for (std::size_t i = 0; i < in.size();) {
    std::size_t run = i;
    while (run < in.size() && plain(static_cast<unsigned char>(in[run]))) ++run;
    out.append(in.data() + i, run - i);
    if (run == in.size()) break;
    i = run;
    const auto c = static_cast<unsigned char>(in[i]);
    if (c >= 0x80) {
      const std::size_t len = utf8_sequence_length(in, i);
      if (len == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(in.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
}

}  // namespace kurz::platform
