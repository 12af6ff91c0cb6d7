// The simulator's event trace: compact records kept in a ring buffer (the last events before a
// violation) or streamed in full (--trace). Records are formatted only when printed, so tracing
// costs little when nobody reads it. Output is a pure function of the records: the same seed
// prints the same trace, byte for byte.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>

namespace raftkit::sim {

struct TraceEvent {
  uint64_t time_us = 0;
  std::string text;  // formatted lazily by the producer's lambda when needed
};

class Trace {
 public:
  /// Keeps the last `keep` events; streams every event to `sink` when set.
  explicit Trace(size_t keep) : keep_(keep) {}
  void SetSink(std::function<void(const std::string&)> sink) { sink_ = std::move(sink); }
  [[nodiscard]] bool streaming() const { return static_cast<bool>(sink_); }

  /// Records an event. `format` runs now only if the event is streamed; otherwise it is stored
  /// and run when the tail is printed.
  void Add(uint64_t time_us, std::function<std::string()> format);
  /// The last events, one per line: "[   12.345 ms] text".
  [[nodiscard]] std::string Tail() const;

  static std::string Line(uint64_t time_us, const std::string& text);

 private:
  struct Pending {
    uint64_t time_us;
    std::function<std::string()> format;
  };
  size_t keep_;
  std::deque<Pending> events_;
  std::function<void(const std::string&)> sink_;
};

}  // namespace raftkit::sim
