// Backend groups as configured: the names of the load-balancing strategies. No CAF, no I/O (the
// config reader and its fuzz target link it without the actors).
#include "actors/backend_spec.hpp"

namespace b2bua {

const char* to_string(LbStrategy s) {
  switch (s) {
    case LbStrategy::round_robin: return "round_robin";
    case LbStrategy::weighted: return "weighted";
    case LbStrategy::least_calls: return "least_calls";
    case LbStrategy::hash: return "hash";
    case LbStrategy::failover: return "failover";
  }
  return "round_robin";
}

}  // namespace b2bua
