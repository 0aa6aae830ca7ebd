package flightsrv

import (
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// minRowsCap is the number of rows a batch may declare whatever its size;
// beyond it a batch needs at least one bit of buffer data per row. A batch
// of NULL-typed columns, or of no columns, holds no data at all, and its
// row count would otherwise be an allocation size the client picks.
const minRowsCap = 1 << 16

// batchReader reads the record batches of a client's DoPut stream (bulk
// ingest or prepared-statement parameters) and validates each one in full,
// as untrusted input, before anything reads it. Every decoding or
// validation failure is a KindInvalid error and ends the stream; a panic
// inside arrow-go while decoding becomes such an error too.
//
// A batchReader is used by one goroutine. The batch Next returns is owned
// by the underlying reader and valid until the next call to Next.
type batchReader struct {
	rdr    flight.MessageReader
	schema *arrow.Schema
	n      int // batches read so far
	done   bool
}

// newBatchReader reads the stream's schema. A stream that ends before any
// IPC message has a nil schema and no batches.
func newBatchReader(rdr flight.MessageReader) (br *batchReader, err error) {
	br = &batchReader{rdr: rdr, done: true}
	if rdr == nil {
		return br, nil
	}
	defer func() {
		if r := recover(); r != nil {
			br, err = nil, catalog.Errorf(catalog.KindInvalid, "malformed Arrow IPC schema: %v", r)
		}
	}()
	schema := rdr.Schema()
	if schema == nil {
		err := rdr.Err()
		if err == nil || errors.Is(err, io.EOF) {
			return br, nil
		}
		return nil, catalog.WrapKind(catalog.KindInvalid, err, "malformed Arrow IPC schema")
	}
	br.schema, br.done = schema, false
	return br, nil
}

// Schema returns the stream's schema (nil for an empty stream).
func (b *batchReader) Schema() *arrow.Schema { return b.schema }

// Next returns the next validated batch, or (nil, nil) at the end of the
// stream.
func (b *batchReader) Next() (rec arrow.RecordBatch, err error) {
	if b.done {
		return nil, nil
	}
	b.n++
	defer func() {
		if r := recover(); r != nil {
			b.done = true
			rec, err = nil, catalog.Errorf(catalog.KindInvalid, "malformed Arrow IPC batch %d: %v", b.n, r)
		}
	}()
	if !b.rdr.Next() {
		b.done = true
		if err := b.rdr.Err(); err != nil {
			return nil, catalog.WrapKind(catalog.KindInvalid, err, "malformed Arrow IPC batch %d", b.n)
		}
		return nil, nil
	}
	rec = b.rdr.RecordBatch()
	if err := validateBatch(b.schema, rec); err != nil {
		b.done = true
		return nil, catalog.WrapKind(catalog.KindInvalid, err, "invalid Arrow IPC batch %d", b.n)
	}
	return rec, nil
}

// validateBatch checks a decoded batch against the stream's schema and
// validates every column with arrow-go's full (O(n)) validation.
func validateBatch(schema *arrow.Schema, rec arrow.RecordBatch) error {
	if rec == nil {
		return errors.New("missing record batch")
	}
	if !rec.Schema().Equal(schema) {
		return errors.New("batch schema differs from the stream's schema")
	}
	rows := rec.NumRows()
	if rows < 0 {
		return fmt.Errorf("negative row count %d", rows)
	}
	if int(rec.NumCols()) != schema.NumFields() {
		return fmt.Errorf("batch has %d columns, schema has %d", rec.NumCols(), schema.NumFields())
	}
	var size int64
	for i, col := range rec.Columns() {
		if col == nil {
			return fmt.Errorf("column %d is missing", i)
		}
		if int64(col.Len()) != rows {
			return fmt.Errorf("column %d (%s) has %d rows, batch has %d", i, schema.Field(i).Name, col.Len(), rows)
		}
		size += dataSize(col.Data())
	}
	if rows > minRowsCap && rows > 8*size {
		return fmt.Errorf("batch declares %d rows but holds only %d bytes of data", rows, size)
	}
	return validateFull(rec)
}

// validateFull is array.ValidateRecordFull, which can itself panic on some
// corrupt offsets (it slices values before it checks them). arrow-go's IPC
// reader decodes a null-typed array (pyarrow sends an all-None parameter that
// way) with no buffers, which its own validation then refuses; each column is
// validated as it would look with the validity slot such arrays should carry.
func validateFull(rec arrow.RecordBatch) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt column data: %v", r)
		}
	}()
	for i, col := range rec.Columns() {
		d, fixed := withNullBuffers(col.Data())
		arr := col
		if fixed {
			arr = array.MakeFromData(d)
			defer arr.Release()
			d.Release()
		}
		if err := array.ValidateFull(arr); err != nil {
			return fmt.Errorf("column %d (%s): %w", i, rec.Schema().Field(i).Name, err)
		}
	}
	return nil
}

// withNullBuffers returns d with a (nil) validity buffer on every null-typed
// array in it that has none, and whether it had to change anything. A
// changed result is a new reference the caller releases.
func withNullBuffers(d arrow.ArrayData) (arrow.ArrayData, bool) {
	children := d.Children()
	var fixedChildren []arrow.ArrayData
	for i, c := range children {
		fc, fixed := withNullBuffers(c)
		if !fixed {
			continue
		}
		if fixedChildren == nil {
			fixedChildren = append([]arrow.ArrayData(nil), children...)
		}
		fixedChildren[i] = fc
		defer fc.Release()
	}
	buffers := d.Buffers()
	missing := d.DataType().ID() == arrow.NULL && len(buffers) == 0
	if !missing && fixedChildren == nil {
		return d, false
	}
	if missing {
		buffers = []*memory.Buffer{nil}
	}
	if fixedChildren == nil {
		fixedChildren = children
	}
	out := array.NewData(d.DataType(), d.Len(), buffers, fixedChildren, d.NullN(), d.Offset())
	if dict := d.Dictionary(); dict != nil {
		out.SetDictionary(dict)
	}
	return out, true
}

// dataSize is the number of bytes in the buffers of d, its children and
// its dictionary.
func dataSize(d arrow.ArrayData) int64 {
	// Data.Dictionary returns a typed nil *array.Data when there is none.
	if dd, ok := d.(*array.Data); d == nil || ok && dd == nil {
		return 0
	}
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataSize(c)
	}
	if dict := d.Dictionary(); dict != nil {
		n += dataSize(dict)
	}
	return n
}
