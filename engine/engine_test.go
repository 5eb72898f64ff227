package engine_test

import (
	"testing"

	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/internal/testkit"
)

// TestEndToEnd runs the end-to-end scenario (see testkit.EndToEnd) on the
// in-process broker: the embedded default.
func TestEndToEnd(t *testing.T) {
	cfg := testkit.EndToEndConfig()
	emb, err := engine.StartEmbedded(&cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	testkit.EndToEnd(t, cfg)
}
