#pragma once
// The Pistache glue: the handler every connection of the server goes through.

#include <pistache/http.h>

#include <memory>

#include "server_state.h"

namespace kurz::platform {

// A handler for Pistache's endpoint over the server's shared state. For each connection it
// enforces the connection bound, guards the raw bytes (size, framing), hands Pistache's parser
// one request at a time (so pipelined requests are each answered, in order), runs the route,
// and writes the answer: straight to the socket when nothing is queued for the connection,
// through Pistache's write queue otherwise.
std::shared_ptr<Pistache::Http::Handler> make_handler(std::shared_ptr<Server::State> state);

}  // namespace kurz::platform
