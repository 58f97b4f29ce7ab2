// The atoms of the b2bua actor protocol (CAF 0.17: at most 10 characters each).
#pragma once

#include <caf/atom.hpp>

namespace b2bua {

using attach_atom = caf::atom_constant<caf::atom("attach")>;     // leg actor -> transport
using incoming_atom = caf::atom_constant<caf::atom("incoming")>; // transport -> router
using leg_atom = caf::atom_constant<caf::atom("leg")>;           // LegEvent carrier
using route_atom = caf::atom_constant<caf::atom("route")>;       // router: a decision arrives
using hangup_atom = caf::atom_constant<caf::atom("hangup")>;     // operator or shutdown -> bridge
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;   // a CAF-clock timer fired
using update_atom = caf::atom_constant<caf::atom("update")>;     // bridge -> registry
using ended_atom = caf::atom_constant<caf::atom("ended")>;       // bridge -> registry
using list_atom = caf::atom_constant<caf::atom("list")>;         // -> registry
using get_atom = caf::atom_constant<caf::atom("get")>;           // -> registry
using drain_atom = caf::atom_constant<caf::atom("drain")>;       // -> registry: hang up all
using admit_atom = caf::atom_constant<caf::atom("admit")>;       // bridge -> breaker: may I?
using outcome_atom = caf::atom_constant<caf::atom("outcome")>;   // bridge -> breaker: how it went
using probe_atom = caf::atom_constant<caf::atom("probe")>;       // breaker timer; SIP probe reply
using disable_atom = caf::atom_constant<caf::atom("disable")>;   // operator -> breaker
using queued_atom = caf::atom_constant<caf::atom("queued")>;     // router: a queue timer fired
using drop_atom = caf::atom_constant<caf::atom("drop")>;         // -> registry: hang up, await end

}  // namespace b2bua

namespace b2bua {
using sip_atom = caf::atom_constant<caf::atom("sip")>;           // transport -> leg: a SIP-side LegEvent
using event_atom = caf::atom_constant<caf::atom("event")>;       // bridge -> registry -> subscribers
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;  // -> registry: send me events
using unsub_atom = caf::atom_constant<caf::atom("unsub")>;       // -> registry: stop sending
using retry_atom = caf::atom_constant<caf::atom("retry")>;       // bridge timer: resend an offer after 491
}  // namespace b2bua
