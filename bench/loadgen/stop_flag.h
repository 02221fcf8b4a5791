#pragma once
// SIGINT / SIGTERM set a flag that every loop of kurz-load checks: it stops wrk and its own
// sockets, and exits 130 instead of leaving children behind.
#include <atomic>

namespace kurz::load {

void install_stop_handlers();
bool stop_requested();

}  // namespace kurz::load
