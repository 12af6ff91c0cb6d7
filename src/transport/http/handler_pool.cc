#include "transport/http/handler_pool.h"

namespace raftkit::http::internal {

bool HandlerPool::Submit(std::function<void()> task) {
  std::lock_guard lock(mu_);
  if (stopping_) return false;
  queue_.push_back(std::move(task));
  // Every queued task needs its own idle thread: handlers may block for a stream's lifetime.
  if (idle_ < queue_.size() && threads_.size() < max_threads_) {
    threads_.emplace_back([this] { Loop(); });
    ++started_;
  } else {
    cv_.notify_one();
  }
  return true;
}

void HandlerPool::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    --idle_;
    if (queue_.empty()) return;  // stopping and nothing left to run
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // release captured state before going idle
    lock.lock();
  }
}

void HandlerPool::Shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& t : threads)
    t.join();
}

size_t HandlerPool::threads() const {
  std::lock_guard lock(mu_);
  return started_;
}

}  // namespace raftkit::http::internal
