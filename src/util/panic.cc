#include "raftkit/util/panic.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace raftkit {

namespace {
[[noreturn]] void DefaultPanic(std::string_view message) {
  std::fprintf(stderr, "raftkit panic: %.*s\n", static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
  std::abort();
}

std::atomic<PanicHandler> g_handler{nullptr};
}  // namespace

PanicHandler SetPanicHandler(PanicHandler handler) noexcept {
  return g_handler.exchange(handler);
}

void ThrowingPanicHandler(std::string_view message) {
  throw PanicError{std::string(message)};
}

void Panic(std::string_view message) {
  if (PanicHandler h = g_handler.load(); h != nullptr) h(message);
  // A handler that returns would break the [[noreturn]] promise: fall through to the default.
  DefaultPanic(message);
}

}  // namespace raftkit
