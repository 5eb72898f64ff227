// Package testkit helps tests that run tickstream for real: it builds the
// binary, runs it as a process, reads the Parquet lake back and reads Kafka
// topics to their end. It is imported by tests only and holds no product
// logic.
package testkit

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickstream/tickstream/sinks/lake"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds tickstream once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "tickstream-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tickstream")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Dir = strings.TrimSpace(string(root))
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// WriteFile writes body to a new file in a test temp dir and returns its path.
func WriteFile(t testing.TB, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Proc is a running tickstream process with its combined output captured.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	out  syncBuffer
	done chan struct{}
	err  error
}

// Start runs bin with args; the process is killed when the test ends.
func Start(t testing.TB, name, bin string, args ...string) *Proc {
	t.Helper()
	p := &Proc{Name: name, cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("--- output of %s ---\n%s", p.Name, tail(p.Output(), 60))
		}
	})
	return p
}

// Output is everything the process wrote so far.
func (p *Proc) Output() string { return p.out.String() }

// Stop sends SIGTERM and waits up to timeout for the exit status.
func (p *Proc) Stop(timeout time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	return p.Wait(timeout)
}

// Kill sends SIGKILL: a crash at an arbitrary instant.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Wait waits up to timeout for the process to exit and returns its status.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		return errors.New(p.Name + " did not exit in " + timeout.String())
	}
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func tail(s string, lines int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

// Eventually polls cond every 100 ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// LakeWriter opens a partition writer (topic "ticks", partition 0) over a
// new local lake in a temp dir, closed when the test ends, and returns the
// lake's directory; rows are in the lake once the test flushes the writer.
func LakeWriter(t testing.TB) (string, *lake.PartitionWriter) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lake")
	store, err := lake.NewLocalStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := lake.NewPartitionWriter(store, lake.Options{Topic: "ticks", SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return dir, w
}

// ReadTable reads every committed Parquet file of a lake table (files whose
// names start with "." are in flight and skipped, as Hive readers do).
func ReadTable[T any](t testing.TB, lakeDir, table string) []T {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(lakeDir, table), func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return filepath.SkipAll
		}
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") && !strings.HasPrefix(d.Name(), ".") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var rows []T
	for _, f := range files {
		rs, err := parquet.ReadFile[T](f)
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		rows = append(rows, rs...)
	}
	return rows
}

// ReadTopic reads a topic from the start to its end offsets as of the call,
// calling each for every record, and returns the count.
func ReadTopic(t testing.TB, ctx context.Context, opts []kgo.Opt, topic string, each func(*kgo.Record)) int {
	t.Helper()
	adm, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	ends, err := kadm.NewClient(adm).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	ends.Each(func(o kadm.ListedOffset) { want += o.Offset })
	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got int64
	for got < want {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("reading %s: %d of %d records: %v", topic, got, want, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			got++
			if each != nil {
				each(r)
			}
		})
	}
	return int(got)
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }
