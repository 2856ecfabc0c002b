package journal_test

import (
	"testing"

	"github.com/cwmpd/cwmpd/journal/journalbench"
)

func BenchmarkRawSync(b *testing.B)       { journalbench.RawSync(b) }
func BenchmarkAppendDurable(b *testing.B) { journalbench.AppendDurable(b) }
func BenchmarkGroupCommit16(b *testing.B) { journalbench.GroupCommit(16)(b) }
func BenchmarkGroupCommit64(b *testing.B) { journalbench.GroupCommit(64)(b) }

func BenchmarkReplay100k(b *testing.B) {
	bench, cleanup := journalbench.Replay(100_000)
	defer cleanup()
	bench(b)
}
