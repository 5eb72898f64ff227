package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"

	"github.com/tickstream/tickstream/config"
)

// Reload says where `tickstream run` took its config from, so that edits
// to it are applied while it runs. The zero value turns reloading off.
type Reload struct {
	// Path is the config file, watched for changes.
	Path string
	// Signal delivers SIGHUP: reload now, whether the file changed or not.
	Signal <-chan os.Signal
}

func (r Reload) on() bool { return r.Path != "" }

// debounce is how long the config file must be quiet before it is read: an
// editor's save is several events (write, chmod, rename), and a reader
// must not catch the file half-written.
const debounce = 200 * time.Millisecond

// reloader applies edits of the config file to a running `tickstream run`.
// Only keys of config.LiveKeys are applied; a change to any other key is
// reported as needing a restart, and the rest of the edit still applies.
type reloader struct {
	path string
	hup  <-chan os.Signal
	log  *zap.Logger

	// base is the config as loaded at start (before the embedded broker
	// filled in kafka.brokers): what the restart-only keys run with. cur is
	// the config last applied.
	base, cur *config.Config
	// apply hands a validated config to the engine; an error refuses it.
	apply func(*config.Config) error
	// simSymbols, if the simulator runs, takes the new symbol list.
	simSymbols chan []string
	// pollFeed is the polling feed (yahoo, alphavantage) if one runs: it
	// keeps the symbols it started with.
	pollFeed string
	// onSymbols are called in order with the new symbol list (AllSymbols)
	// once a reload that changed it, order included, has been applied:
	// the dashboard's hub takes it there.
	onSymbols []func([]string)
}

// watch starts watching the config file's directory (editors replace a
// file by renaming a new one over it, which a watch on the file itself
// would lose); nil, after a warning, if it cannot, which leaves SIGHUP. It
// runs before loop, so that no edit made once Run is under way is missed.
func (r *reloader) watch() *fsnotify.Watcher {
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(filepath.Dir(r.path)); err == nil {
			return w
		}
		w.Close()
	}
	r.log.Warn("cannot watch the config file; reload it with SIGHUP", zap.String("path", r.path), zap.Error(err))
	return nil
}

// loop reloads on SIGHUP and once the file has been quiet for debounce
// after a change, until ctx ends; then it closes w.
func (r *reloader) loop(ctx context.Context, w *fsnotify.Watcher) error {
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w != nil {
		defer w.Close()
		events, errs = w.Events, w.Errors
	}
	name := filepath.Clean(r.path)
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	defer quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if filepath.Clean(ev.Name) == name && ev.Op != fsnotify.Chmod {
				quiet.Reset(debounce)
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			r.log.Warn("config file watch error", zap.Error(err))
		case <-quiet.C:
			r.reload("file changed")
		case <-r.hup:
			r.reload("SIGHUP")
		}
	}
}

// reload loads the file with the strict loader and applies it, or logs why
// not and keeps the running config.
func (r *reloader) reload(why string) {
	next, err := config.Load(r.path)
	if err != nil {
		r.log.Error("config reload refused; the running config stays", zap.String("trigger", why), zap.Error(err))
		return
	}
	live, _ := config.Diff(r.cur, next)
	if _, restart := config.Diff(r.base, next); len(restart) > 0 {
		r.log.Warn("config keys changed that need a restart; they keep their running values until then",
			zap.Strings("keys", restart))
	}
	if len(live) == 0 {
		r.log.Info("config reloaded: no live setting changed", zap.String("trigger", why))
		r.cur = next
		return
	}
	if err := r.apply(next); err != nil {
		r.log.Error("config reload refused; the running config stays", zap.String("trigger", why), zap.Error(err))
		return
	}
	if !slices.Equal(r.cur.AllSymbols(), next.AllSymbols()) {
		for _, f := range r.onSymbols {
			f(next.AllSymbols()) // a list of its own, which it may keep
		}
	}
	added, removed := symbolChanges(r.cur.AllSymbols(), next.AllSymbols())
	if len(added)+len(removed) > 0 {
		if r.simSymbols != nil {
			// Only the newest list matters: replace one the simulator has
			// not taken yet.
			select {
			case <-r.simSymbols:
			default:
			}
			r.simSymbols <- next.AllSymbols()
		}
		if r.pollFeed != "" {
			r.log.Warn("the feed polls the symbols it started with; restart to poll the new list",
				zap.String("provider", r.pollFeed), zap.Strings("added", added), zap.Strings("removed", removed))
		}
	}
	r.log.Info("config reload applied", zap.String("trigger", why), zap.Strings("keys", live),
		zap.Strings("symbols_added", added), zap.Strings("symbols_removed", removed))
	r.cur = next
}

// symbolChanges lists the symbols of next not in old, and of old not in
// next, each in list order.
func symbolChanges(old, next []string) (added, removed []string) {
	in := func(list []string) map[string]bool {
		m := make(map[string]bool, len(list))
		for _, s := range list {
			m[s] = true
		}
		return m
	}
	oldSet, nextSet := in(old), in(next)
	for _, s := range next {
		if !oldSet[s] {
			added = append(added, s)
		}
	}
	for _, s := range old {
		if !nextSet[s] {
			removed = append(removed, s)
		}
	}
	return added, removed
}

// newReloader is the reloader of a run that started from cfg as loaded
// (base, before Run adjusted it).
func newReloader(rl Reload, base *config.Config, log *zap.Logger, apply func(*config.Config) error) (*reloader, error) {
	path, err := filepath.Abs(rl.Path)
	if err != nil {
		return nil, fmt.Errorf("config reload: %w", err)
	}
	return &reloader{path: path, hup: rl.Signal, log: log, base: base, cur: base, apply: apply}, nil
}
