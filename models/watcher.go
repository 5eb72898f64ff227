package models

import (
	"context"
	"os"
	"time"
)

// Watcher reloads model files that change on disk. It polls: a stat per
// file per interval costs nothing, needs no dependency and works on every
// filesystem, including the network and container mounts where change
// notifications are unreliable. A file whose size or modification time
// changed is read and hashed; only different content is validated and
// swapped in (Registry.Reload), and a refused file is logged once, until it
// changes again.
//
// Replace model files atomically (write a temporary file, then rename it
// over the old one). A file caught half-written fails validation, is
// refused with a log line, and is picked up at the next poll after the
// writer finishes.
type Watcher struct {
	reg   *Registry
	every time.Duration
	seen  []fileState
}

type fileState struct {
	size    int64
	modTime time.Time
	ok      bool
}

// NewWatcher watches reg's files every interval (at least 100 ms).
func NewWatcher(reg *Registry, every time.Duration) *Watcher {
	w := &Watcher{reg: reg, every: max(every, 100*time.Millisecond), seen: make([]fileState, reg.Len())}
	for i := range w.seen {
		w.seen[i] = stat(reg.Spec(i).Path)
	}
	return w
}

func stat(path string) fileState {
	fi, err := os.Stat(path)
	if err != nil {
		return fileState{}
	}
	return fileState{size: fi.Size(), modTime: fi.ModTime(), ok: true}
}

// Poll checks every file once and reloads the changed ones; it returns
// how many models were swapped. Run calls it every interval; tests call it
// directly.
func (w *Watcher) Poll() int {
	swapped := 0
	for i := range w.seen {
		st := stat(w.reg.Spec(i).Path)
		if st == w.seen[i] {
			continue
		}
		w.seen[i] = st
		if !st.ok {
			// Gone (or mid-rename): keep serving; Reload logs why.
			_, _ = w.reg.Reload(i)
			continue
		}
		if ok, _ := w.reg.Reload(i); ok {
			swapped++
		}
	}
	return swapped
}

// Run polls until ctx is done.
func (w *Watcher) Run(ctx context.Context) error {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			w.Poll()
		}
	}
}
