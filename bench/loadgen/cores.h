#pragma once
// The CPUs this process may run on (its affinity mask, so `taskset -c 1 bench/load` counts 1),
// at least 1: the default number of sending threads in both modes.
namespace kurz::load {

int usable_cores();

}  // namespace kurz::load
