// transport-bench-go measures etcd 3.4's rafthttp Transport (Debian's golang-etcd-server-dev,
// GOPATH mode) on loopback, as the yardstick for raftkit's transport benchmark: two Transports in
// one process (ids 1 and 2), node 1 streams MsgApp to node 2 over the msgapp stream for a fixed
// time, with at most --window messages sent but not yet processed by node 2.
//
// Output: one JSON line on stdout (logs go to stderr):
//
//	{"impl":"go","entry_bytes":100,"batch":64,"seconds":5.0,"msgs":...,"msgs_per_s":...,
//	 "entries_per_s":...,"mb_per_s":...,"cpu_s":...,"cpu_us_per_msg":...,"dropped":...}
//
// "seconds" is the measured time: from the first send after warm-up until every message sent in
// the --seconds budget was processed. "cpu_s" is this process's user+system time over the same
// interval (both transports, the HTTP servers and the sender). "dropped" counts messages the
// transport reported unreachable (a full stream buffer drops them); a clean run has 0.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"go.etcd.io/etcd/etcdserver/api/rafthttp"
	"go.etcd.io/etcd/etcdserver/api/snap"
	stats "go.etcd.io/etcd/etcdserver/api/v2stats"
	"go.etcd.io/etcd/pkg/types"
	"go.etcd.io/etcd/raft"
	"go.etcd.io/etcd/raft/raftpb"
	"go.uber.org/zap"
)

const clusterID = 0x1000

func fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "transport-bench-go: "+format+"\n", args...)
	os.Exit(2)
}

// countingRaft counts the MsgApp it processes and wakes a waiting sender.
type countingRaft struct {
	received atomic.Uint64
	dropped  atomic.Uint64
	progress chan struct{} // capacity 1: "received moved"
}

func (r *countingRaft) Process(_ context.Context, m raftpb.Message) error {
	if m.Type == raftpb.MsgApp {
		r.received.Add(1)
		select {
		case r.progress <- struct{}{}:
		default:
		}
	}
	return nil
}

func (r *countingRaft) IsIDRemoved(uint64) bool { return false }

func (r *countingRaft) ReportUnreachable(uint64) {
	r.dropped.Add(1)
	select {
	case r.progress <- struct{}{}:
	default:
	}
}

func (r *countingRaft) ReportSnapshot(uint64, raft.SnapshotStatus) {}

type node struct {
	tr     *rafthttp.Transport
	raft   *countingRaft
	server *http.Server
	url    string
}

func startNode(id uint64, lg *zap.Logger, snapDir string, r *countingRaft) *node {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatalf("listen: %v", err)
	}
	idStr := types.ID(id).String()
	tr := &rafthttp.Transport{
		Logger:      lg,
		DialTimeout: time.Second,
		ID:          types.ID(id),
		ClusterID:   types.ID(clusterID),
		Raft:        r,
		Snapshotter: snap.New(lg, snapDir),
		ServerStats: stats.NewServerStats("bench", idStr),
		LeaderStats: stats.NewLeaderStats(idStr),
		ErrorC:      make(chan error, 1),
	}
	if err := tr.Start(); err != nil {
		fatalf("starting transport %d: %v", id, err)
	}
	n := &node{tr: tr, raft: r, server: &http.Server{Handler: tr.Handler()},
		url: "http://" + ln.Addr().String()}
	go func() {
		if err := n.server.Serve(ln); err != nil && err != http.ErrServerClosed {
			fatalf("serving: %v", err)
		}
	}()
	return n
}

func (n *node) stop() {
	n.tr.Stop()
	n.server.Close()
}

// appender builds consecutive MsgApp from 1 to 2: term 1, `batch` entries each.
type appender struct {
	batch int
	data  []byte
	last  uint64
}

func (a *appender) next() raftpb.Message {
	ents := make([]raftpb.Entry, a.batch)
	for i := range ents {
		ents[i] = raftpb.Entry{Term: 1, Index: a.last + uint64(i) + 1, Type: raftpb.EntryNormal,
			Data: a.data}
	}
	m := raftpb.Message{Type: raftpb.MsgApp, To: 2, From: 1, Term: 1, LogTerm: 1, Index: a.last,
		Entries: ents, Commit: a.last + uint64(a.batch)}
	if a.last == 0 {
		m.LogTerm = 0
	}
	a.last += uint64(a.batch)
	return m
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fatalf("getrusage: %v", err)
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// outstanding is the count of messages sent by 1 that 2 has neither processed nor 1 reported
// unreachable (dropped).
func outstanding(sender, receiver *countingRaft, sent uint64) uint64 {
	return sent - receiver.received.Load() - sender.dropped.Load()
}

// waitWindow blocks until fewer than `window` messages are outstanding, so that one more may be
// sent (window 0: until none is); false on timeout.
func waitWindow(sender, receiver *countingRaft, sent uint64, window uint64,
	timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		// etcd's receiving peer buffers 4096 messages and drops the next one silently, so the
		// window counts the message about to be sent: at most `window` are ever outstanding.
		if n := outstanding(sender, receiver, sent); n == 0 || n < window {
			return true
		}
		select {
		case <-receiver.progress:
		case <-sender.progress:
		case <-deadline.C:
			return false
		}
	}
}

func main() {
	entryBytes := flag.Int("entry-bytes", 100, "bytes of data per entry")
	batch := flag.Int("batch", 1, "entries per MsgApp")
	seconds := flag.Float64("seconds", 5, "sending time in seconds")
	window := flag.Uint64("window", 4096, "most messages sent but not yet processed")
	flag.Parse()
	if *entryBytes < 0 || *batch < 1 || *seconds <= 0 || *window < 1 {
		fatalf("need --entry-bytes >= 0, --batch >= 1, --seconds > 0, --window >= 1")
	}
	runtime.GOMAXPROCS(2)

	snapDir, err := os.MkdirTemp("", "transport-bench-go-")
	if err != nil {
		fatalf("temp dir: %v", err)
	}
	defer os.RemoveAll(snapDir)
	lg := zap.NewNop()

	r1 := &countingRaft{progress: make(chan struct{}, 1)}
	r2 := &countingRaft{progress: make(chan struct{}, 1)}
	n1 := startNode(1, lg, snapDir, r1)
	n2 := startNode(2, lg, snapDir, r2)
	n1.tr.AddPeer(2, []string{n2.url})
	n2.tr.AddPeer(1, []string{n1.url})

	// Warm-up: both sides active, then ~1 s of MsgApp that must arrive (over the msgapp stream,
	// once it is attached: the pipeline carries them only before).
	up := time.Now().Add(10 * time.Second)
	for n1.tr.ActiveSince(2).IsZero() || n2.tr.ActiveSince(1).IsZero() {
		if time.Now().After(up) {
			fatalf("the peers did not become active within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	app := &appender{batch: *batch, data: make([]byte, *entryBytes)}
	for i := range app.data {
		app.data[i] = byte(i)
	}
	var sent uint64
	warm := time.Now().Add(time.Second)
	for time.Now().Before(warm) {
		if !waitWindow(r1, r2, sent, *window, 10*time.Second) {
			fatalf("warm-up stalled: sent %d, received %d", sent, r2.received.Load())
		}
		n1.tr.Send([]raftpb.Message{app.next()})
		sent++
	}
	if !waitWindow(r1, r2, sent, 0, 10*time.Second) {
		fatalf("warm-up did not drain: sent %d, received %d", sent, r2.received.Load())
	}
	if r2.received.Load() == 0 {
		fatalf("no MsgApp arrived during warm-up")
	}

	// Measurement.
	base := sent
	baseDropped := r1.dropped.Load()
	cpu0 := cpuSeconds()
	t0 := time.Now()
	stopAt := t0.Add(time.Duration(*seconds * float64(time.Second)))
	for time.Now().Before(stopAt) {
		if !waitWindow(r1, r2, sent, *window, 10*time.Second) {
			fatalf("stalled: sent %d, received %d", sent, r2.received.Load())
		}
		n1.tr.Send([]raftpb.Message{app.next()})
		sent++
	}
	if !waitWindow(r1, r2, sent, 0, 10*time.Second) {
		fatalf("did not drain: sent %d, received %d", sent, r2.received.Load())
	}
	elapsed := time.Since(t0).Seconds()
	cpu := cpuSeconds() - cpu0
	dropped := r1.dropped.Load() - baseDropped
	msgs := sent - base - dropped

	n1.stop()
	n2.stop()

	out := map[string]interface{}{
		"impl":           "go",
		"entry_bytes":    *entryBytes,
		"batch":          *batch,
		"seconds":        elapsed,
		"msgs":           msgs,
		"msgs_per_s":     float64(msgs) / elapsed,
		"entries_per_s":  float64(msgs) * float64(*batch) / elapsed,
		"mb_per_s":       float64(msgs) * float64(*batch) * float64(*entryBytes) / 1e6 / elapsed,
		"cpu_s":          cpu,
		"cpu_us_per_msg": 0.0,
		"dropped":        dropped,
	}
	if msgs > 0 {
		out["cpu_us_per_msg"] = cpu * 1e6 / float64(msgs)
	}
	// Keys in the documented order (a map would sort them).
	keys := []string{"impl", "entry_bytes", "batch", "seconds", "msgs", "msgs_per_s",
		"entries_per_s", "mb_per_s", "cpu_s", "cpu_us_per_msg", "dropped"}
	line := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			line = append(line, ',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(out[k])
		if err != nil {
			fatalf("encoding %s: %v", k, err)
		}
		line = append(append(append(line, kb...), ':'), vb...)
	}
	line = append(line, '}', '\n')
	os.Stdout.Write(line)
}
