#pragma once
// The bytes of an HTTP/1.1 answer, written once for both ways out: a Reply sent for a parsed
// request, and the refusal of a request that was never parsed (413, 431, 400 smuggling, 501).
// No sockets here: the glue hands the bytes to the connection (see pistache_handler.cc).
//
// Rules kept in this one place:
//   - status line "HTTP/1.1 <status> <reason>";
//   - X-Instance-Id and X-Request-Id on every answer, then Content-Type and the reply's headers;
//     CR, LF and NUL in any name or value become spaces (a stray one cannot start a header or a
//     body of its own; the server refuses such a reply with a 500 before it gets here);
//   - Content-Length on every answer but 1xx, 204 and 304, which carry no body; an answer to HEAD
//     carries the Content-Length its GET would have, and no body;
//   - "Connection: keep-alive" or "Connection: close".

#include <string>
#include <string_view>

#include "kurz/platform/http.h"

namespace kurz::platform::wire {

// The reason phrase of a status; an unknown one gets its class's ("OK", "Bad Request", ...).
std::string_view reason_phrase(int status);

// What an answer carries besides the Reply.
struct Framing {
  std::string_view instance_id;
  std::string_view request_id;
  bool keep_alive = true;
  bool head_request = false;  // HEAD: the headers of the GET answer, no body
};

// Whether an answer with this status may carry a body (and so a Content-Length).
bool has_body(int status);

// Appends the whole answer (head and body) to `out`.
void append_answer(std::string& out, const Reply& reply, const Framing& framing);
std::string answer(const Reply& reply, const Framing& framing);

}  // namespace kurz::platform::wire
