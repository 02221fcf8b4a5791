#pragma once
// Listener control that Pistache 0.0.5 lacks.

#include <cstdint>

namespace kurz::platform {

// Stops accepting new connections on `port` without touching the open ones: our listening socket
// is swapped for an inert descriptor (new connections are refused at once, Pistache's poller
// forgets it, and Pistache later closes the stand-in instead). Pistache's own shutdown would tear
// down the connections still being answered.
void stop_accepting(std::uint16_t port);

}  // namespace kurz::platform
