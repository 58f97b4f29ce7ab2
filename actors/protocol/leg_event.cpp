// Names of LegEvent kinds.
#include "actors/protocol/leg_event.hpp"

namespace b2bua {

const char* to_string(LegEventKind kind) {
  switch (kind) {
    case LegEventKind::incoming: return "incoming";
    case LegEventKind::trying: return "trying";
    case LegEventKind::ringing: return "ringing";
    case LegEventKind::early_media: return "early_media";
    case LegEventKind::answered: return "answered";
    case LegEventKind::confirmed: return "confirmed";
    case LegEventKind::failed: return "failed";
    case LegEventKind::cancelled: return "cancelled";
    case LegEventKind::bye: return "bye";
    case LegEventKind::terminated: return "terminated";
  }
  return "unknown";
}

}  // namespace b2bua
