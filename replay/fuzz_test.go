package replay

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/cwmpd/cwmpd/journal"
)

// FuzzReplayJSONL feeds arbitrary bytes through the JSONL reader, the event
// decoder and every projection: a journal pulled from a broken device must
// give an error or violations, never a panic.
func FuzzReplayJSONL(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 8192 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Run(journal.NewJSONLReader(bytes.NewReader(data)), Options{MaxViolations: 5})
		if err == nil && res.State == nil {
			t.Fatal("no state and no error")
		}
	})
}
