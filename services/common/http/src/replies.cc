#include "kurz/service/replies.h"

#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

#include "kurz/common/utf8.h"

namespace kurz::service {
namespace {

int status_of(common::ErrorKind kind) {
  switch (kind) {
    case common::ErrorKind::Invalid:
      return 400;
    case common::ErrorKind::NotFound:
      return 404;
    case common::ErrorKind::Conflict:
      return 409;
    case common::ErrorKind::Gone:
      return 410;
    case common::ErrorKind::Unavailable:
      return 503;
    case common::ErrorKind::Internal:
      break;
  }
  return 500;
}

bool is_json_media_type(const std::string& content_type) {
  std::string type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type == "application/json";
}

// Every byte of the key is compared, whatever was presented and wherever it first differs: the
// time depends on the key's length only, never on how much of it a guess got right (nor on the
// guess's length).
bool constant_time_equals(const std::string& presented, const std::string& key) {
  unsigned char diff = presented.size() == key.size() ? 0 : 1;
  const std::size_t n = presented.size();
  for (std::size_t i = 0; i < key.size(); ++i) {
    const unsigned char got = n == 0 ? 0 : static_cast<unsigned char>(presented[i % n]);
    diff |= static_cast<unsigned char>(got ^ static_cast<unsigned char>(key[i]));
  }
  return diff == 0;
}

}  // namespace

platform::Reply error_reply(const common::Error& error) {
  return platform::Reply::error(status_of(error.kind), error.code, error.message);
}

platform::Reply json_reply(int status, const nlohmann::json& body) {
  return platform::Reply::json(status,
                               body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::optional<platform::Reply> parse_json_object(const platform::Request& request,
                                                 nlohmann::json& out,
                                                 std::initializer_list<std::string_view> fields) {
  const auto content_type = request.header("Content-Type");
  if (!content_type || !is_json_media_type(*content_type)) {
    return platform::Reply::error(415, "unsupported_media_type",
                                  "send the request body as application/json");
  }
  if (!common::is_valid_utf8(request.body())) {
    return platform::Reply::error(400, "invalid_json", "the request body is not valid UTF-8");
  }
  out = nlohmann::json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded()) {
    return platform::Reply::error(400, "invalid_json", "the request body is not valid JSON");
  }
  if (!out.is_object()) {
    return platform::Reply::error(400, "invalid_request", "the request body must be a JSON object");
  }
  for (const auto& member : out.items()) {
    bool known = false;
    for (const auto field : fields) known = known || member.key() == field;
    if (known) continue;
    std::string names;
    for (const auto field : fields) {
      if (!names.empty()) names += ", ";
      names.append(field);
    }
    // The name is shown as valid UTF-8 (it is: the body was checked) and bounded.
    return platform::Reply::error(400, "unknown_field",
                                  "'" + common::sanitize_utf8(member.key(), 64) +
                                      "' is not a field; the fields are " + names);
  }
  return std::nullopt;
}

std::optional<platform::Reply> require_api_key(const platform::Request& request,
                                               const std::string& api_key) {
  if (api_key.empty()) return std::nullopt;
  std::string presented;
  if (const auto header = request.header("X-API-Key")) {
    presented = *header;
  } else if (const auto authorization = request.header("Authorization")) {
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization->compare(0, kBearer.size(), kBearer) == 0) {
      presented = authorization->substr(kBearer.size());
    }
  }
  if (constant_time_equals(presented, api_key)) return std::nullopt;
  auto reply = platform::Reply::error(401, "unauthorized", "a valid API key is required");
  reply.with_header("WWW-Authenticate", "Bearer");
  return reply;
}

IntParam int_query(const platform::Request& request, const char* name, long fallback, long min,
                   long max) {
  const auto present = request.query(name);
  if (!present) return IntParam{fallback, std::nullopt};
  const std::string message = std::string(name) + " must be a whole number from " +
                              std::to_string(min) + " to " + std::to_string(max);
  long value = 0;
  const auto& text = *present;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < min ||
      value > max) {
    return IntParam{std::nullopt, platform::Reply::error(400, "invalid_parameter", message)};
  }
  return IntParam{value, std::nullopt};
}

void add_page_headers(platform::Reply& reply) {
  reply.with_header("Content-Security-Policy",
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                    "frame-ancestors 'none'; form-action 'self'");
  reply.with_header("X-Content-Type-Options", "nosniff");
  reply.with_header("X-Frame-Options", "DENY");
  reply.with_header("Referrer-Policy", "no-referrer");
}

platform::Reply html_page(int status, const std::string& title, const std::string& message) {
  const auto escape = [](const std::string& text) {
    std::string out;
    for (const char c : text) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&#39;";
          break;
        default:
          out.push_back(c);
      }
    }
    return out;
  };
  auto reply = platform::Reply::html(
      status, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
                  escape(title) +
                  " · kurz</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head>"
                  "<body><main><h1>" +
                  escape(title) + "</h1><p>" + escape(message) +
                  "</p><p><a href=\"/\">Shorten a link</a></p></main></body></html>\n");
  add_page_headers(reply);
  return reply;
}

}  // namespace kurz::service
