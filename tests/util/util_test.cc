// raftkit/util: strong ids, Bytes, Status/Result, Rand, Panic and RAFTKIT_CHECK.
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "raftkit/util/bytes.h"
#include "raftkit/util/ids.h"
#include "raftkit/util/panic.h"
#include "raftkit/util/rand.h"
#include "raftkit/util/status.h"

namespace raftkit {
namespace {

// ---------------------------------------------------------------------------------------------
// Strong ids
// ---------------------------------------------------------------------------------------------

// The three id types are distinct and do not convert into each other or from plain integers.
static_assert(!std::is_same_v<Term, Index>);
static_assert(!std::is_same_v<Term, NodeId>);
static_assert(!std::is_convertible_v<Term, Index>);
static_assert(!std::is_convertible_v<Index, Term>);
static_assert(!std::is_convertible_v<uint64_t, Index>);
static_assert(!std::is_convertible_v<Index, uint64_t>);
static_assert(std::is_trivially_copyable_v<Index>);
static_assert(sizeof(Index) == sizeof(uint64_t));

template <class T>
concept Incrementable = requires(T t) {
  ++t;
};
template <class T>
concept Addable = requires(T t) {
  t + uint64_t{1};
};
template <class T>
concept Subtractable = requires(T a, T b) {
  a - b;
};
static_assert(Incrementable<Index> && Incrementable<Term>);
static_assert(Addable<Index> && Addable<Term>);
static_assert(Subtractable<Index>);
static_assert(!Incrementable<NodeId>, "NodeId has no arithmetic");
static_assert(!Addable<NodeId>, "NodeId has no arithmetic");
static_assert(!Subtractable<NodeId>, "NodeId has no arithmetic");

// Usable in constant expressions.
static_assert(Index(3) + 2 == Index(5));
static_assert(Index(5) - Index(3) == 2u);
static_assert(Min(Index(3), Index(7)) == Index(3));
static_assert(kNoNode.value() == 0);

TEST(StrongIds, DefaultIsZero) {
  EXPECT_EQ(Index().value(), 0u);
  EXPECT_EQ(Term().value(), 0u);
  EXPECT_EQ(NodeId(), kNoNode);
  EXPECT_EQ(kNoLimit, std::numeric_limits<uint64_t>::max());
}

TEST(StrongIds, Arithmetic) {
  Index i(10);
  EXPECT_EQ((i + 5).value(), 15u);
  EXPECT_EQ((i - 3).value(), 7u);
  EXPECT_EQ(i - Index(4), 6u);
  EXPECT_EQ(Index(4) - Index(4), 0u);
  ++i;
  EXPECT_EQ(i, Index(11));
  i += 9;
  EXPECT_EQ(i, Index(20));
  EXPECT_EQ(&(++i), &i) << "pre-increment returns *this";
  EXPECT_EQ(&(i += 1), &i);

  Term t(1);
  ++t;
  EXPECT_EQ(t, Term(2));
  EXPECT_EQ(t + 1, Term(3));

  // Unsigned wrap-around at the top, as with Go's uint64.
  EXPECT_EQ(Index(std::numeric_limits<uint64_t>::max()) + 1, Index(0));
}

TEST(StrongIds, Compare) {
  EXPECT_LT(Index(1), Index(2));
  EXPECT_LE(Index(2), Index(2));
  EXPECT_GT(Term(3), Term(2));
  EXPECT_GE(Term(3), Term(3));
  EXPECT_NE(NodeId(1), NodeId(2));
  EXPECT_EQ(NodeId(7), NodeId(7));
  EXPECT_LT(NodeId(1), NodeId(std::numeric_limits<uint64_t>::max()));
  EXPECT_EQ(Index(3) <=> Index(4), std::strong_ordering::less);
  EXPECT_EQ(Min(Index(9), Index(2)), Index(2));
  EXPECT_EQ(Max(Index(9), Index(2)), Index(9));
  EXPECT_EQ(Max(Index(2), Index(2)), Index(2));

  std::set<NodeId> ordered = {NodeId(3), NodeId(1), NodeId(2)};
  EXPECT_EQ(ordered.begin()->value(), 1u);
}

TEST(StrongIds, Format) {
  EXPECT_EQ(fmt::format("{}", Term(5)), "5");
  EXPECT_EQ(fmt::format("{}", Index(0)), "0");
  EXPECT_EQ(fmt::format("{:x}", NodeId(0xbeef)), "beef");
  EXPECT_EQ(fmt::format("{:>4}", Index(7)), "   7");
  EXPECT_EQ(fmt::format("{}", NodeId(std::numeric_limits<uint64_t>::max())),
            "18446744073709551615");
  EXPECT_EQ(fmt::format("{:x}", NodeId(std::numeric_limits<uint64_t>::max())), "ffffffffffffffff");
}

TEST(StrongIds, Hash) {
  EXPECT_EQ(std::hash<NodeId>{}(NodeId(42)), std::hash<uint64_t>{}(42));
  EXPECT_EQ(std::hash<Index>{}(Index(42)), std::hash<uint64_t>{}(42));
  std::unordered_set<NodeId> ids = {NodeId(1), NodeId(2), NodeId(1)};
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids.count(NodeId(2)), 1u);
  EXPECT_EQ(ids.count(NodeId(3)), 0u);
}

// ---------------------------------------------------------------------------------------------
// Bytes
// ---------------------------------------------------------------------------------------------

TEST(BytesTest, NullVersusEmpty) {
  const Bytes null;
  EXPECT_TRUE(null.is_null());
  EXPECT_TRUE(null.empty());
  EXPECT_EQ(null.size(), 0u);
  EXPECT_EQ(null.view(), "");
  EXPECT_EQ(null.str(), "");
  ASSERT_NE(null.data(), nullptr) << "data() is never null";
  EXPECT_EQ(null.data()[0], '\0');

  const Bytes empty = Bytes::Empty();
  EXPECT_FALSE(empty.is_null());
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.size(), 0u);

  EXPECT_NE(null, empty) << "nullness is part of equality";
  EXPECT_EQ(null.view(), empty.view()) << "but the content is the same";
  EXPECT_EQ(Bytes::Empty(), Bytes::Empty());

  // Every constructor from a value makes a non-null Bytes, even from "".
  EXPECT_FALSE(Bytes(std::string()).is_null());
  EXPECT_FALSE(Bytes(std::string_view()).is_null());
  EXPECT_FALSE(Bytes("").is_null());
  EXPECT_EQ(Bytes(std::string()), Bytes::Empty());
}

TEST(BytesTest, ContentAndEquality) {
  const Bytes a("hello");
  EXPECT_EQ(a.size(), 5u);
  EXPECT_EQ(a.view(), "hello");
  EXPECT_EQ(a.str(), "hello");
  EXPECT_EQ(std::string_view(a.data(), a.size()), "hello");
  EXPECT_EQ(a, Bytes(std::string("hello")));
  EXPECT_EQ(a, Bytes(std::string_view("hello")));
  EXPECT_NE(a, Bytes("hellO"));
  EXPECT_NE(a, Bytes("hell"));
  EXPECT_NE(a, Bytes());

  // Embedded NUL bytes are content like any other.
  const Bytes bin(std::string("a\0b", 3));
  EXPECT_EQ(bin.size(), 3u);
  EXPECT_EQ(bin.view(), std::string_view("a\0b", 3));
  EXPECT_NE(bin, Bytes("a"));
}

TEST(BytesTest, CopiesShareOneBuffer) {
  const Bytes a(std::string(1000, 'x'));
  const Bytes b = a;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(a.data(), b.data()) << "copying shares, it does not copy the content";
  EXPECT_EQ(a, b);

  Bytes c;
  c = b;
  EXPECT_EQ(c.data(), a.data());

  Bytes moved = std::move(c);
  EXPECT_EQ(moved.data(), a.data());

  EXPECT_EQ(Bytes::Empty().data(), Bytes::Empty().data()) << "one shared empty buffer";

  // The string constructor takes a long string over without copying the characters (a short one
  // is copied into the block that holds the reference count).
  std::string big(4097, 'y');
  const char* before = big.data();
  const Bytes owned(std::move(big));
  EXPECT_EQ(owned.data(), before);

  // The string_view constructor copies.
  const std::string src = "copied";
  const Bytes copied{std::string_view(src)};
  EXPECT_NE(copied.data(), src.data());
  EXPECT_EQ(copied.view(), src);
}

// ---------------------------------------------------------------------------------------------
// Status / Result
// ---------------------------------------------------------------------------------------------

TEST(StatusTest, Ok) {
  const Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.code(), ErrorCode::kOk);
  EXPECT_EQ(ok.message(), "");
  EXPECT_EQ(ok.ToString(), "ok");
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(ok, Status::Ok());
  EXPECT_EQ(ok, ErrorCode::kOk);
}

TEST(StatusTest, Errors) {
  const Status s(ErrorCode::kCompacted, "index 3 compacted");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kCompacted);
  EXPECT_EQ(s.message(), "index 3 compacted");
  EXPECT_EQ(s.ToString(), "Compacted: index 3 compacted");
  EXPECT_EQ(Status(ErrorCode::kUnavailable, "").ToString(), "Unavailable");

  // Equality compares codes only.
  EXPECT_EQ(s, Status(ErrorCode::kCompacted, "another message"));
  EXPECT_FALSE(s == Status(ErrorCode::kUnavailable, "index 3 compacted"));
  EXPECT_EQ(s, ErrorCode::kCompacted);
  EXPECT_FALSE(s == ErrorCode::kOk);
}

TEST(StatusTest, ErrorCodeNames) {
  const std::pair<ErrorCode, std::string_view> names[] = {
      {ErrorCode::kOk, "OK"},
      {ErrorCode::kProposalDropped, "ProposalDropped"},
      {ErrorCode::kStepLocalMsg, "StepLocalMsg"},
      {ErrorCode::kStepPeerNotFound, "StepPeerNotFound"},
      {ErrorCode::kCompacted, "Compacted"},
      {ErrorCode::kSnapOutOfDate, "SnapOutOfDate"},
      {ErrorCode::kUnavailable, "Unavailable"},
      {ErrorCode::kSnapshotTemporarilyUnavailable, "SnapshotTemporarilyUnavailable"},
      {ErrorCode::kInvalidArgument, "InvalidArgument"},
      {ErrorCode::kCorruption, "Corruption"},
      {ErrorCode::kNotFound, "NotFound"},
      {ErrorCode::kAlreadyExists, "AlreadyExists"},
      {ErrorCode::kIoError, "IoError"},
      {ErrorCode::kInternal, "Internal"},
  };
  for (const auto& [code, name] : names)
    EXPECT_EQ(ErrorCodeName(code), name);
}

Result<int> Half(int v) {
  if (v % 2 != 0) return Status(ErrorCode::kInvalidArgument, fmt::format("{} is odd", v));
  return v / 2;
}

TEST(ResultTest, Value) {
  Result<int> r = Half(8);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 4);
  EXPECT_EQ(*r, 4);
  EXPECT_EQ(r.code(), ErrorCode::kOk);
  EXPECT_TRUE(r.status().ok());
  EXPECT_EQ(r.value_or(-1), 4);
  r.value() = 5;
  EXPECT_EQ(*r, 5);

  Result<std::string> s = std::string("abc");
  EXPECT_EQ(s->size(), 3u);
  const Result<std::string>& cs = s;
  EXPECT_EQ(cs->front(), 'a');
  EXPECT_EQ(*cs, "abc");
  std::string taken = std::move(s).value();
  EXPECT_EQ(taken, "abc");
}

TEST(ResultTest, Error) {
  const Result<int> r = Half(3);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "3 is odd");
  EXPECT_EQ(r.status().ToString(), "InvalidArgument: 3 is odd");
  EXPECT_EQ(r.value_or(-1), -1);

  const Result<int> r2(ErrorCode::kNotFound, "missing");
  EXPECT_EQ(r2.code(), ErrorCode::kNotFound);
  EXPECT_EQ(r2.status().message(), "missing");
}

Status Step(int v, int* calls) {
  ++*calls;
  return v < 0 ? Status(ErrorCode::kInvalidArgument, "negative") : Status::Ok();
}

Status Chain(int a, int b, int* calls) {
  RAFTKIT_RETURN_IF_ERROR(Step(a, calls));
  RAFTKIT_RETURN_IF_ERROR(Step(b, calls));
  return Status(ErrorCode::kInternal, "reached the end");
}

Result<int> Quarter(int v) {
  RAFTKIT_RETURN_IF_ERROR(Half(v));  // a Result works too
  return *Half(v / 2);
}

TEST(ResultTest, ReturnIfError) {
  int calls = 0;
  EXPECT_EQ(Chain(1, 2, &calls).code(), ErrorCode::kInternal);
  EXPECT_EQ(calls, 2);

  calls = 0;
  Status s = Chain(-1, 2, &calls);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "negative");
  EXPECT_EQ(calls, 1) << "returned at the first error";

  calls = 0;
  EXPECT_EQ(Chain(1, -2, &calls).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(calls, 2);

  EXPECT_EQ(*Quarter(8), 2);
  const Result<int> odd = Quarter(5);
  EXPECT_EQ(odd.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(odd.status().message(), "5 is odd");
}

// ---------------------------------------------------------------------------------------------
// Rand
// ---------------------------------------------------------------------------------------------

TEST(RandTest, SameSeedSameSequence) {
  Rand a(42);
  Rand b(42);
  Rand c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs = differs || x != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(RandTest, KnownSplitMix64Values) {
  // SplitMix64 from seed 0 (the reference sequence of the algorithm).
  Rand r(0);
  EXPECT_EQ(r.Next(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(r.Next(), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(r.Next(), 0x06c45d188009454fULL);
  static_assert(Rand(0).Next() == 0xe220a8397b1dcdafULL, "constexpr");
}

TEST(RandTest, UniformStaysInRangeAndCoversIt) {
  Rand r(7);
  for (uint64_t n : {uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{10}, uint64_t{1000}}) {
    std::set<uint64_t> seen;
    for (int i = 0; i < 20000; ++i) {
      const uint64_t v = r.Uniform(n);
      ASSERT_LT(v, n);
      if (n <= 10) seen.insert(v);
    }
    if (n <= 10) {
      EXPECT_EQ(seen.size(), n) << "every value in [0, " << n << ") appears";
    }
  }
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(r.Uniform(1), 0u);
  }

  // Huge ranges (where the rejection limit matters) stay in range too.
  const uint64_t big = (uint64_t{1} << 63) + 12345;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_LT(r.Uniform(big), big);
  }
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_LT(r.Uniform(max), max);
  }
}

TEST(RandTest, UniformIsRoughlyUniform) {
  Rand r(2024);
  constexpr int kBuckets = 10;
  constexpr int kDraws = 100000;
  int counts[kBuckets] = {};
  for (int i = 0; i < kDraws; ++i)
    ++counts[r.Uniform(kBuckets)];
  for (int c : counts) {
    EXPECT_GT(c, kDraws / kBuckets * 9 / 10);
    EXPECT_LT(c, kDraws / kBuckets * 11 / 10);
  }
}

TEST(RandTest, UniformIsDeterministic) {
  Rand a(99);
  Rand b(99);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(a.Uniform(17), b.Uniform(17));
}

// ---------------------------------------------------------------------------------------------
// Panic and RAFTKIT_CHECK
// ---------------------------------------------------------------------------------------------

class PanicTest : public ::testing::Test {
 protected:
  void SetUp() override { previous_ = SetPanicHandler(&ThrowingPanicHandler); }
  void TearDown() override {
    // Restore whatever was installed before, and check that ours was still in place.
    EXPECT_EQ(SetPanicHandler(previous_), &ThrowingPanicHandler);
  }

 private:
  PanicHandler previous_ = nullptr;
};

TEST_F(PanicTest, ThrowingHandlerCarriesTheMessage) {
  try {
    Panic("something broke");
    FAIL() << "Panic returned";
  } catch (const PanicError& e) {
    EXPECT_EQ(e.message, "something broke");
  }
}

TEST_F(PanicTest, PanicMacroAddsTheLocation) {
  try {
    RAFTKIT_PANIC("bad index {} of {}", 7, 5);
  } catch (const PanicError& e) {
    EXPECT_NE(e.message.find("util_test.cc:"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find(": bad index 7 of 5"), std::string::npos) << e.message;
    return;
  }
  FAIL() << "no panic";
}

TEST_F(PanicTest, CheckPassesWithoutEvaluatingTheMessage) {
  int formatted = 0;
  auto count = [&formatted] {
    ++formatted;
    return 1;
  };
  EXPECT_NO_THROW(RAFTKIT_CHECK(1 + 1 == 2, "math is broken {}", count()));
  EXPECT_EQ(formatted, 0) << "arguments are only evaluated on failure";
}

TEST_F(PanicTest, CheckFailureNamesTheConditionAndMessage) {
  const int term = 3;
  try {
    RAFTKIT_CHECK(term > 5, "term {} too small", term);
    FAIL() << "no panic";
  } catch (const PanicError& e) {
    EXPECT_NE(e.message.find("util_test.cc:"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("check failed: term > 5: term 3 too small"), std::string::npos)
        << e.message;
  }
}

TEST(PanicHandlerTest, SetReturnsThePreviousHandler) {
  const PanicHandler original = SetPanicHandler(&ThrowingPanicHandler);
  EXPECT_EQ(SetPanicHandler(nullptr), &ThrowingPanicHandler);
  EXPECT_EQ(SetPanicHandler(original), nullptr);
}

TEST(PanicDeathTest, DefaultHandlerAborts) {
  const PanicHandler original = SetPanicHandler(nullptr);
  EXPECT_DEATH(Panic("fatal thing"), "raftkit panic: fatal thing");
  SetPanicHandler(original);
}

}  // namespace
}  // namespace raftkit
