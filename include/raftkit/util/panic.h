// Broken invariants abort with context (STYLE.md, practice 12). Expected failures are values
// (status.h); a panic means the program's own state can no longer be trusted.
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace raftkit {

/// Called with the panic message. The default writes it to stderr and aborts. A handler must not
/// return; tests and fuzzers may install one that throws PanicError to observe panics in-process.
using PanicHandler = void (*)(std::string_view message);

/// Installs `handler` (nullptr restores the default) and returns the previous one.
PanicHandler SetPanicHandler(PanicHandler handler) noexcept;

/// The exception a throwing panic handler raises (see ThrowingPanicHandler).
struct PanicError {
  std::string message;
};

/// A ready-made handler that throws PanicError.
[[noreturn]] void ThrowingPanicHandler(std::string_view message);

/// Reports a broken invariant and does not return.
[[noreturn]] void Panic(std::string_view message);

/// Installs a panic handler for its lifetime and restores the previous one when destroyed, e.g.
/// `ScopedPanicHandler throwing(ThrowingPanicHandler);` in a test that expects a PanicError.
class ScopedPanicHandler {
 public:
  explicit ScopedPanicHandler(PanicHandler handler) : previous_(SetPanicHandler(handler)) {}
  ~ScopedPanicHandler() { SetPanicHandler(previous_); }
  ScopedPanicHandler(const ScopedPanicHandler&) = delete;
  ScopedPanicHandler& operator=(const ScopedPanicHandler&) = delete;

 private:
  PanicHandler previous_;
};

}  // namespace raftkit

/// RAFTKIT_PANIC("format {}", args...): abort with a formatted message and the source location.
#define RAFTKIT_PANIC(...) \
  ::raftkit::Panic(::fmt::format("{}:{}: {}", __FILE__, __LINE__, ::fmt::format(__VA_ARGS__)))

/// RAFTKIT_CHECK(cond, "format {}", args...): panic unless `cond` holds.
#define RAFTKIT_CHECK(cond, ...)                                                               \
  do {                                                                                         \
    if (!(cond)) [[unlikely]] {                                                                \
      ::raftkit::Panic(::fmt::format("{}:{}: check failed: {}: {}", __FILE__, __LINE__, #cond, \
                                     ::fmt::format(__VA_ARGS__)));                             \
    }                                                                                          \
  } while (0)
