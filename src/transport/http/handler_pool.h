// A cached thread pool for request handlers (private to the HTTP server).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace raftkit::http::internal {

/// Runs tasks on threads that are reused when idle. A task never waits for another task to
/// finish: when no thread is idle a new one starts, up to `max_threads` (the server passes
/// max_connections, and a connection has at most one task in flight, so the cap is never reached
/// while tasks queue). Thread-safe.
class HandlerPool {
 public:
  explicit HandlerPool(size_t max_threads) : max_threads_(max_threads) {}
  ~HandlerPool() { Shutdown(); }
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  /// Queues `task`; false (and the task is dropped) once Shutdown() began.
  bool Submit(std::function<void()> task);
  /// Runs the queued tasks, waits for every running one, and joins the threads. Idempotent.
  void Shutdown();
  /// Threads started so far.
  [[nodiscard]] size_t threads() const;

 private:
  void Loop();

  const size_t max_threads_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  size_t started_ = 0;
  bool stopping_ = false;
};

}  // namespace raftkit::http::internal
