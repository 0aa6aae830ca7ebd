package coldstore

import (
	"log/slog"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// DefaultRowGroupRows is the default number of rows per Parquet row group.
const DefaultRowGroupRows = 128 * 1024

// Options configures a Store. The zero value is usable once Dir is set.
type Options struct {
	// Dir is the root directory of the cold tier. Required; Open creates it.
	Dir string
	// RowGroupRows is the maximum number of rows per row group. Default
	// DefaultRowGroupRows (131072).
	RowGroupRows int
	// Logger receives lifecycle messages (orphans removed). Default: discard.
	Logger *slog.Logger
}

// EnsureDefaults fills unset fields with their defaults and returns o.
func (o *Options) EnsureDefaults() *Options {
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Validate reports an invalid option as a catalog.KindInvalid error.
func (o *Options) Validate() error {
	if o.Dir == "" {
		return catalog.Errorf(catalog.KindInvalid, "coldstore: Options.Dir is required")
	}
	if o.RowGroupRows < 0 {
		return catalog.Errorf(catalog.KindInvalid, "coldstore: Options.RowGroupRows must not be negative, got %d", o.RowGroupRows)
	}
	return nil
}
