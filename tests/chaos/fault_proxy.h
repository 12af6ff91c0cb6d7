// A TCP proxy for one network link between two raftkit-kv members, with faults that can be
// switched at any time: each direction can be blocked (a one-way cut; both ways: a partition),
// delayed or slowed, and every open connection can be reset. The chaos harness routes every peer
// link through one (docs: tests/chaos).
//
// A blocked direction stops forwarding without discarding anything: the bytes wait (in the proxy's
// buffer and then in the kernel's socket buffers, so the sender eventually stalls), as they would
// behind a network that drops packets until TCP gives up. Applications see what they see in a
// real partition: no answer, their own timeouts, reconnections that go nowhere. When the link
// heals, whatever waited is delivered in order, unless the application closed the connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "raftkit/util/status.h"

namespace raftkit::chaos {

/// What one direction of a link does to the bytes sent through it.
struct LinkFaults {
  bool blocked = false;                ///< nothing is forwarded until unblocked
  std::chrono::milliseconds delay{0};  ///< each chunk is held this long before it goes on
  uint64_t bytes_per_second = 0;       ///< 0: unlimited; otherwise a slow link
};

class FaultProxy {
 public:
  /// Listens on 127.0.0.1:`listen_port` (0: any free port) and forwards each connection to
  /// 127.0.0.1:`target_port`. Errors: kIoError when the port cannot be bound.
  static Result<std::unique_ptr<FaultProxy>> Start(uint16_t target_port, uint16_t listen_port = 0);
  ~FaultProxy();  ///< closes everything
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  [[nodiscard]] uint16_t port() const;
  /// Faults of the direction from the connecting side to the target, and back.
  void SetForward(const LinkFaults& faults);
  void SetBackward(const LinkFaults& faults);
  /// Both directions blocked (a partition of this link) or both clear.
  void Partition();
  void Heal();
  /// Resets every open connection (RST to both sides); new ones are accepted as usual.
  void ResetConnections();
  /// Connections accepted so far, and bytes forwarded in each direction.
  [[nodiscard]] uint64_t accepted() const;
  [[nodiscard]] uint64_t forwarded_bytes() const;
  [[nodiscard]] uint64_t backward_bytes() const;

  class Impl;

 private:
  explicit FaultProxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace raftkit::chaos
