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
    case LegEventKind::reoffer: return "reoffer";
    case LegEventKind::reanswer: return "reanswer";
    case LegEventKind::info: return "info";
    case LegEventKind::dtmf: return "dtmf";
    case LegEventKind::hold: return "hold";
    case LegEventKind::resume: return "resume";
  }
  return "unknown";
}

}  // namespace b2bua
