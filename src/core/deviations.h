// TEST HOOK. The core calls deviation::Note(n) whenever it takes a path on which it knowingly
// behaves differently from etcd raft 3.4 — n is the row of docs/etcd-deviations.md. The
// conformance runner (tests/conformance) installs an observer so that its comparison with etcd
// stops exactly where a deliberate difference begins. Nothing else installs one; unobserved, a note
// costs one load and a predictable branch, on rare paths only.
#pragma once

namespace raftkit::raft::deviation {

using Observer = void (*)(int number);

/// Installs `observer` (nullptr removes it). Not thread-safe with respect to running nodes.
void SetObserver(Observer observer) noexcept;

/// Reports that deviation `number` is being taken.
void Note(int number) noexcept;

}  // namespace raftkit::raft::deviation
