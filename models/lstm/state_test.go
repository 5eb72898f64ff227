package lstm_test

import (
	"math"
	"slices"
	"testing"

	"github.com/tickstream/tickstream/models/lstm"
)

// A state saved halfway through a sequence and restored into a fresh one
// carries on exactly as the state that was never saved.
func TestStateRoundTrip(t *testing.T) {
	for _, fx := range fixtures(t) {
		m := load(t, fx)
		in := readNPY(t, fx.Inputs)
		steps, feat, k := in.Shape[1], in.Shape[2], m.OutputSize()
		ws := m.NewWorkspace(1)
		whole := []*lstm.State{m.NewState()}
		restored := []*lstm.State{m.NewState()}
		a, b := make([]float32, k), make([]float32, k)
		for s := range steps {
			x := in.F32[s*feat : (s+1)*feat]
			if err := m.Step(ws, whole, x, a); err != nil {
				t.Fatal(err)
			}
			if s < steps/2 {
				continue
			}
			if s == steps/2 {
				enc, err := whole[0].MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				if err := restored[0].UnmarshalBinary(enc); err != nil {
					t.Fatalf("%s: %v", fx.Name, err)
				}
				continue
			}
			if err := m.Step(ws, restored, x, b); err != nil {
				t.Fatal(err)
			}
			for i := range a {
				if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
					t.Fatalf("%s step %d: restored %v, uninterrupted %v", fx.Name, s, b[i], a[i])
				}
			}
		}
		if whole[0].Steps() != restored[0].Steps() {
			t.Errorf("%s: steps %d after restore, %d uninterrupted", fx.Name, restored[0].Steps(), whole[0].Steps())
		}
	}
}

// A state of another shape, or cut short, is refused and leaves the
// target as it was.
func TestStateRefusesForeignBytes(t *testing.T) {
	var big, small *lstm.Model // two models whose states differ in shape
	for _, fx := range fixtures(t) {
		m := load(t, fx)
		switch {
		case big == nil:
			big = m
		case !slices.Equal(m.Units(), big.Units()):
			small = m
		}
	}
	if small == nil {
		t.Fatal("the fixtures hold no two LSTMs of different shapes")
	}
	st := big.NewState()
	ws := big.NewWorkspace(1)
	out := make([]float32, big.OutputSize())
	_ = big.Step(ws, []*lstm.State{st}, make([]float32, big.InputSize()), out)
	enc, _ := st.MarshalBinary()

	other := small.NewState()
	if err := other.UnmarshalBinary(enc); err == nil {
		t.Error("a state of another model's shape was accepted")
	}
	for _, n := range []int{0, 1, len(enc) / 2, len(enc) - 1} {
		fresh := big.NewState()
		if err := fresh.UnmarshalBinary(enc[:n]); err == nil {
			t.Errorf("state cut to %d of %d bytes was accepted", n, len(enc))
		}
		if fresh.Steps() != 0 {
			t.Errorf("a refused state changed the target")
		}
	}
	if err := big.NewState().UnmarshalBinary(append(enc, 0)); err == nil {
		t.Error("trailing bytes were accepted")
	}
}
