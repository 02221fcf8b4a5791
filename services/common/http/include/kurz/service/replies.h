#pragma once
// The adapter layer's shared vocabulary: domain errors to HTTP (the one place that maps kinds to
// status codes), JSON bodies in and out, and the API key check.

#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "kurz/common/error.h"
#include "kurz/platform/http.h"

namespace kurz::service {

// Invalid → 400, NotFound → 404, Conflict → 409, Gone → 410, Unavailable → 503, Internal → 500;
// the body is the API's error shape with the error's code and message.
platform::Reply error_reply(const common::Error& error);

// Serialises `body`; strings that are not valid UTF-8 are repaired, never a throw.
platform::Reply json_reply(int status, const nlohmann::json& body);

// Parses the body of a JSON API request into a JSON object. On failure returns the reply to send:
// 415 unless Content-Type is application/json, 400 invalid_json for a malformed body (or one
// that is not valid UTF-8), 400 invalid_request when the top level is not an object, 400
// unknown_field naming the first member that is not one of `fields` (a typo such as "slg" must
// not be ignored silently).
std::optional<platform::Reply> parse_json_object(const platform::Request& request,
                                                 nlohmann::json& out,
                                                 std::initializer_list<std::string_view> fields);

// When `api_key` is non-empty, the request must carry it as "Authorization: Bearer <key>" or
// "X-API-Key: <key>"; otherwise returns a 401 reply. Compared in constant time.
std::optional<platform::Reply> require_api_key(const platform::Request& request,
                                               const std::string& api_key);

// Parses an optional integer query parameter within [min, max]; a missing parameter gives
// `fallback`, anything else (not a number, out of range, badly encoded) a 400 reply.
struct IntParam {
  std::optional<long> value;
  std::optional<platform::Reply> error;
};
IntParam int_query(const platform::Request& request, const char* name, long fallback, long min,
                   long max);

// Headers for every HTML page: a strict Content-Security-Policy (no inline script or style, no
// third-party origin), no MIME sniffing, no framing, no referrer leak to the links' targets.
void add_page_headers(platform::Reply& reply);

// A minimal HTML page (404, 410) that escapes everything it shows.
platform::Reply html_page(int status, const std::string& title, const std::string& message);

}  // namespace kurz::service
