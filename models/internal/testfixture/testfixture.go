// Package testfixture loads the parity fixtures that scripts/models writes into
// models/testdata (NumPy arrays and JSON manifests) for the tests of the
// models packages. It is imported by tests only; a missing or unreadable
// fixture fails the test that asked for it.
package testfixture

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/tickstream/tickstream/models/npy"
)

// NPY reads the .npy file at path.
func NPY(t testing.TB, path string) *npy.Array {
	t.Helper()
	a, err := npy.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// JSON decodes the JSON file at path into v.
func JSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
