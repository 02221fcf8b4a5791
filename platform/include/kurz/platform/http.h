#pragma once
// The HTTP vocabulary every kurz handler speaks: a read-only Request view and a Reply value.
// Handlers never touch the HTTP library; the platform's server sends the Reply, records metrics,
// writes the access log and adds X-Instance-Id / X-Request-Id (see server.h).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kurz::platform {

enum class Method : std::uint8_t { Get, Head, Post, Put, Patch, Delete, Options, Other };

std::string_view to_string(Method method);

// Where a Request reads its headers from. Implemented by the server over the HTTP library, and by
// tests over a plain map.
class HeaderSource {
 public:
  virtual ~HeaderSource() = default;
  // The value of the named header (case-insensitive), or nullopt when absent.
  virtual std::optional<std::string> get(std::string_view name) const = 0;
};

// A request as a handler sees it. Valid only during the handler call; not thread-safe.
class Request {
 public:
  using Params = std::vector<std::pair<std::string_view, std::string>>;

  Request(Method method, std::string_view path, std::string_view query, std::string_view body,
          const HeaderSource& headers, std::string_view client_ip, std::string_view id);

  Method method() const { return method_; }
  // The path as sent, without the query string, not decoded.
  std::string_view path() const { return path_; }
  std::string_view body() const { return body_; }
  std::string_view client_ip() const { return client_ip_; }
  // This request's id (from a valid incoming X-Request-Id, else generated); also in the access log.
  std::string_view id() const { return id_; }

  std::optional<std::string> header(std::string_view name) const { return headers_.get(name); }

  // The first value of a query parameter, percent-decoded ('+' is a space); nullopt when absent.
  // A value with a broken escape (a stray '%') is returned as sent, for validation to reject.
  std::optional<std::string> query(std::string_view name) const;

  // A path parameter of the matched route template, percent-decoded. Empty when the route has no
  // such parameter (a programming error the route tests catch).
  const std::string& param(std::string_view name) const;

  // Set by the router once a route matched.
  void set_params(Params params) { params_ = std::move(params); }

 private:
  Method method_;
  std::string_view path_;
  std::string_view query_;
  std::string_view body_;
  const HeaderSource& headers_;
  std::string_view client_ip_;
  std::string_view id_;
  Params params_;
};

// What a handler returns. The server adds the common headers and sends it.
struct Reply {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  Reply& with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  const std::string* find_header(std::string_view name) const;

  static Reply json(int status, std::string body);
  static Reply text(int status, std::string body);
  static Reply html(int status, std::string body);
  static Reply bytes(int status, std::string content_type, std::string body);
  static Reply empty(int status);
  // 302 (or another 3xx) with Location and an empty body.
  static Reply redirect(std::string location, int status = 302);
  // The one error shape of every kurz API: {"error": {"code": ..., "message": ...}}.
  static Reply error(int status, std::string_view code, std::string_view message);
};

// Decodes %XX escapes (and '+' as space when `plus_is_space`). nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);

// Escapes a string for inclusion in a JSON string literal (without the quotes). Invalid UTF-8
// bytes become U+FFFD so that the output is always valid JSON.
void append_json_escaped(std::string& out, std::string_view in);

}  // namespace kurz::platform
