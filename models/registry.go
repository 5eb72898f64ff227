package models

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
)

// Registry holds the models being served, one slot per Spec. Partition
// tasks read a slot with one atomic load and never wait; a reload builds
// and validates the new model off to the side and swaps the pointer only
// if it is good, so a bad file leaves the old model serving.
type Registry struct {
	specs    []Spec
	slots    []atomic.Pointer[Model]
	maxSteps int
	log      *zap.Logger
	mu       sync.Mutex // serialises reloads; never taken on the tick path
}

// NewRegistry loads every spec; unlike a reload, a bad file here is an
// error, since there is no previous model to keep. maxSteps is the window
// the feature state keeps (NewFeatures' steps).
func NewRegistry(specs []Spec, maxSteps int, log *zap.Logger) (*Registry, error) {
	if log == nil {
		log = zap.NewNop()
	}
	r := &Registry{specs: make([]Spec, len(specs)), slots: make([]atomic.Pointer[Model], len(specs)), maxSteps: maxSteps, log: log}
	names := map[string]bool{}
	for i, s := range specs {
		if err := s.check(); err != nil {
			return nil, err
		}
		if names[s.Name] {
			return nil, fmt.Errorf("model %s: name used twice", s.Name)
		}
		names[s.Name] = true
		r.specs[i] = s
		m, err := LoadModel(s, maxSteps)
		if err != nil {
			return nil, err
		}
		r.slots[i].Store(m)
		log.Info("model loaded", zap.String("model", s.Name), zap.String("kind", s.Kind),
			zap.String("version", m.Version), zap.String("horizon", m.Horizon), zap.String("path", s.Path))
	}
	return r, nil
}

// Len is the number of slots.
func (r *Registry) Len() int { return len(r.slots) }

// Model returns the model serving slot i.
func (r *Registry) Model(i int) *Model { return r.slots[i].Load() }

// Spec returns the spec of slot i.
func (r *Registry) Spec(i int) Spec { return r.specs[i] }

// MaxSteps is the window the feature state must keep for these models.
func (r *Registry) MaxSteps() int { return r.maxSteps }

// Reload reads slot i's file again and, if its content changed and the new
// model validates, swaps it in. A refused file is logged with the reason
// and returned as the error; the previous model keeps serving.
func (r *Registry) Reload(i int) (swapped bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	spec, old := r.specs[i], r.slots[i].Load()
	data, err := os.ReadFile(spec.Path)
	if err == nil {
		sum := sha256.Sum256(data)
		if old != nil && hex.EncodeToString(sum[:]) == old.Hash {
			return false, nil // touched, not changed
		}
		var m *Model
		if m, err = ParseModel(spec, data, r.maxSteps); err == nil {
			r.slots[i].Store(m)
			r.log.Info("model reloaded", zap.String("model", spec.Name), zap.String("old_version", old.Version),
				zap.String("version", m.Version), zap.String("path", spec.Path))
			return true, nil
		}
	}
	err = fmt.Errorf("model %s (%s): %w", spec.Name, spec.Path, err)
	r.log.Error("model file refused; the previous model keeps serving", zap.String("model", spec.Name),
		zap.String("version", old.Version), zap.String("path", spec.Path), zap.Error(err))
	return false, err
}
