package hotstore

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestZZMetrics(t *testing.T) {
	ctx := context.Background()
	s, _ := Open(t.TempDir(), Options{})
	defer s.Close()
	td := benchTable(1)
	for start := 0; start < 1000000; start += 50000 {
		rec := benchRecord(td, start, 50000)
		s.Insert(ctx, td, "user1", rec, seqRange(int64(start)+1, 50000))
		rec.Release()
	}
	s.compactAll()
	for i := 0; i < 3; i++ {
		s.Scan(ctx, td, "user1", ScanOptions{}, func(arrow.RecordBatch) error { return nil })
	}
	t.Log(s.db.Metrics().String())
}
