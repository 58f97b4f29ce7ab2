// Integer identities of objects owned by other threads: only these cross thread boundaries.
#pragma once

#include <cstdint>

namespace b2bua {

/// Names one SIP leg (one NUA handle in the sofia thread). 0 is never a valid leg.
using LegId = std::uint64_t;

/// Names one call (one bridge). Equal to the id of its A leg.
using CallId = std::uint64_t;

}  // namespace b2bua
