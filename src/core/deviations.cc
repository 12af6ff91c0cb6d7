#include "core/deviations.h"

#include <atomic>

namespace raftkit::raft::deviation {

namespace {
std::atomic<Observer> g_observer{nullptr};
}  // namespace

void SetObserver(Observer observer) noexcept {
  g_observer.store(observer);
}

void Note(int number) noexcept {
  if (Observer o = g_observer.load(std::memory_order_relaxed); o != nullptr) o(number);
}

}  // namespace raftkit::raft::deviation
